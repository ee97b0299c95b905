/**
 * Getting an access token in tests, the way a real SMART Backend Services client does.
 *
 *   const payer = await registerClient(t, { scopes: 'system/Task.rs', group: 'Group/g1' });
 *   const token = await bearerToken(t, payer);                // POST {base}/auth/token, private_key_jwt
 *   await t.api().get('/fhir/Task').set(authHeader(token));   // { Authorization: 'Bearer …' }
 *   // or in one step: const token = await tokenFor(t, { scopes: 'system/*.cruds' });
 *
 * - registerClient(t, { scopes, group?, name?, alg? }) registers a client through the server's own
 *   registry (the code `npm run client -- add` uses) with a fresh key pair (ES384 by default, or
 *   RS384) and returns a TestClient { id, kid, alg, privateKey, jwks, scopes, group }.
 *   Once any client is registered, requests without a token get 401 (AUTH=auto).
 * - bearerToken(t, client, { scope? }) signs a fresh client assertion (aud = the token_endpoint
 *   discovered at {base}/.well-known/smart-configuration) and exchanges it over HTTP; it asks for the
 *   client's registered scopes unless `scope` says otherwise. Throws with the server's answer unless 200.
 * - signAssertion(client, claims?, header?) builds an assertion with overrides, for tests that try
 *   forged, expired or replayed ones; tokenRequest(t, assertion, scope) posts it and returns the response.
 */
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type request from 'supertest';
import type { TestServer } from './test-server';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestClient {
  id: string;
  kid: string;
  alg: 'ES384' | 'RS384';
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
  scopes: string;
  group?: string;
}

export interface ClientOptions {
  scopes: string;
  group?: string;
  name?: string;
  alg?: 'ES384' | 'RS384';
}

/** A fresh key pair as a client would make one: the private key, and its public JWK with kid and alg. */
export async function makeKey(alg: 'ES384' | 'RS384' = 'ES384'): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = crypto.randomUUID();
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, kid };
}

export async function registerClient(t: TestServer, options: ClientOptions): Promise<TestClient> {
  const alg = options.alg ?? 'ES384';
  const { privateKey, publicJwk, kid } = await makeKey(alg);
  const jwks = { keys: [publicJwk] };
  const record = await t.server.auth.clients.add({ name: options.name ?? `test client ${kid.slice(0, 8)}`, jwks, scope: options.scopes, group: options.group });
  return { id: record._id, kid, alg, privateKey, jwks, scopes: options.scopes, group: options.group };
}

/** The token endpoint's URL as discovery states it: the audience assertions must name. */
export async function tokenEndpoint(t: TestServer): Promise<string> {
  const res = await t.api().get(`${t.base}/.well-known/smart-configuration`);
  if (res.status !== 200) throw new Error(`smart-configuration answered ${res.status}`);
  return (res.body as { token_endpoint: string }).token_endpoint;
}

/** Signs a client assertion; claims and header given here replace the correct ones (undefined removes). */
export async function signAssertion(
  client: Pick<TestClient, 'id' | 'kid' | 'alg' | 'privateKey'>,
  audience: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: client.id, sub: client.id, aud: audience, exp: now + 240, jti: crypto.randomUUID(), ...claims };
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  const protectedHeader: Record<string, unknown> = { alg: client.alg, kid: client.kid, typ: 'JWT', ...header };
  for (const key of Object.keys(protectedHeader)) if (protectedHeader[key] === undefined) delete protectedHeader[key];
  return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(client.privateKey);
}

/** POSTs a token request with this assertion; the response as supertest gives it. */
export function tokenRequest(t: TestServer, assertion: string, scope: string): Promise<request.Response> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
  return t.api().post(`${t.base}/auth/token`).set('Content-Type', 'application/x-www-form-urlencoded').send(form.toString());
}

export async function bearerToken(t: TestServer, client: TestClient, options: { scope?: string } = {}): Promise<string> {
  const assertion = await signAssertion(client, await tokenEndpoint(t));
  const res = await tokenRequest(t, assertion, options.scope ?? client.scopes);
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { access_token: string }).access_token;
}

/** Registers a client with these scopes (and Group) and returns a token for it. */
export async function tokenFor(t: TestServer, options: ClientOptions): Promise<string> {
  return bearerToken(t, await registerClient(t, options));
}

export function authHeader(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
