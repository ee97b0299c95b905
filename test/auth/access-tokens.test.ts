/**
 * Access tokens on the FHIR API: once a client is registered, every request needs a token this
 * server signed, for this server, still valid; anything else gets 401 with an OperationOutcome and
 * a WWW-Authenticate challenge. A valid token becomes the request's SecurityContext.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { AccessTokens } from '../../src/auth/access-tokens';
import { GENERATED_KEY_FILE } from '../../src/auth/signing-key';
import { authHeader, bearerToken, registerClient, type TestClient } from '../helpers/auth';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

describe('Access tokens on the FHIR API', () => {
  let t: TestServer;
  let client: TestClient;
  let token: string;
  let base: string;

  before(async () => {
    t = await startTestServer();
    client = await registerClient(t, { scopes: 'system/Patient.cruds system/Task.rs?code=http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr', group: 'Group/members-1' });
    token = await bearerToken(t, client);
    base = (await t.api().get(`${t.base}/.well-known/smart-configuration`)).body.token_endpoint.replace(/\/auth\/token$/, '');
  });
  after(() => t.close());

  /** Signs a token with the server's own key (read from its data directory), with these claims. */
  async function serverSigned(claims: Record<string, unknown>): Promise<string> {
    const jwk = JSON.parse(fs.readFileSync(path.join(t.dataDir, GENERATED_KEY_FILE), 'utf8')) as JWK;
    const key = await importJWK(jwk, jwk.alg);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'system/*.cruds', ...claims })
      .setProtectedHeader({ alg: jwk.alg as string, kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer((claims.iss as string) ?? base)
      .setAudience((claims.aud as string) ?? base)
      .setSubject(client.id)
      .setIssuedAt(now - 10)
      .setExpirationTime((claims.exp as number) ?? now + 60)
      .sign(key);
  }

  async function expect401(authorization: string | undefined, pattern?: RegExp): Promise<void> {
    const req = t.api().get(`${t.base}/Patient`);
    if (authorization !== undefined) req.set('Authorization', authorization);
    const res = await req;
    assert.equal(res.status, 401, `expected 401, got ${res.status}`);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal(res.body.issue[0].code, 'login');
    const challenge = res.headers['www-authenticate'] as string;
    assert.match(challenge, /^Bearer realm="/);
    if (authorization !== undefined) assert.match(challenge, /error="invalid_(token|request)"/);
    if (pattern) assert.match(res.body.issue[0].diagnostics, pattern);
  }

  it('a request without a token gets 401 with an OperationOutcome and a Bearer challenge', async () => {
    await expect401(undefined);
    const create = await t.api().post(`${t.base}/Patient`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient' }));
    assert.equal(create.status, 401);
    assert.equal((await t.api().get(`${t.base}/_history`)).status, 401);
    assert.equal((await t.api().post(`${t.base}`).set('Content-Type', FHIR_JSON).send('{"resourceType":"Bundle","type":"batch"}')).status, 401);
  });

  it('the CapabilityStatement and SMART discovery answer without a token, and say where to get one', async () => {
    const res = await t.api().get(`${t.base}/metadata`);
    assert.equal(res.status, 200);
    const security = res.body.rest[0].security;
    assert.equal(security.service[0].coding[0].code, 'SMART-on-FHIR');
    const uris = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    assert.equal(uris.extension.find((e: { url: string }) => e.url === 'token').valueUri, `${base}/auth/token`);
    assert.equal((await t.api().get(`${t.base}/.well-known/smart-configuration`)).status, 200);
  });

  it('a valid token is accepted on reads and writes', async () => {
    const writer = await bearerToken(t, await registerClient(t, { scopes: 'system/Patient.cruds' }));
    const created = await t.api().post(`${t.base}/Patient`).set(authHeader(writer)).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient' }));
    assert.equal(created.status, 201);
    assert.equal((await t.api().get(`${t.base}/Patient/${created.body.id}`).set(authHeader(writer))).status, 200);
    // The scheme name is case-insensitive (RFC 7235).
    assert.equal((await t.api().get(`${t.base}/Patient/${created.body.id}`).set('Authorization', `bearer ${writer}`)).status, 200);
  });

  it('the token becomes the request\'s SecurityContext: client id, granted scopes, Group, address', async () => {
    const context = await t.server.auth.authenticator.authenticate(`Bearer ${token}`, base, '10.1.2.3');
    assert.deepEqual(context, {
      principal: client.id,
      scopes: ['system/Patient.cruds', 'system/Task.rs?code=http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr'],
      group: 'Group/members-1',
      address: '10.1.2.3',
    });
  });

  it('refuses a malformed Authorization header or token', async () => {
    await expect401('Basic dXNlcjpwYXNz');
    await expect401('Bearer');
    await expect401('Bearer not-a-jwt');
    await expect401(`Bearer ${token}x`);
  });

  it('refuses a token whose payload was altered (its signature no longer matches)', async () => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'system/*.cruds', group: undefined })).toString('base64url');
    await expect401(`Bearer ${header}.${widened}.${signature}`, /signature/);
  });

  it('refuses a token signed by any other key, including another server\'s', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ scope: 'system/*.cruds' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setIssuer(base)
      .setAudience(base)
      .setSubject(client.id)
      .setIssuedAt()
      .setExpirationTime(now + 60)
      .sign(privateKey);
    await expect401(`Bearer ${forged}`, /signature/);
    const other = await startTestServer();
    try {
      const stranger = await registerClient(other, { scopes: 'system/*.cruds' });
      await expect401(`Bearer ${await bearerToken(other, stranger)}`);
    } finally {
      await other.close();
    }
  });

  it('refuses an unsigned (alg none) token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: base, aud: base, sub: client.id, scope: 'system/*.cruds', iat: now, exp: now + 60 })).toString('base64url');
    await expect401(`Bearer ${header}.${payload}.`);
  });

  it('refuses an expired token, even one this server signed', async () => {
    await expect401(`Bearer ${await serverSigned({ exp: Math.floor(Date.now() / 1000) - 120 })}`, /expired/);
  });

  it('refuses a token this server signed for another audience or issuer', async () => {
    await expect401(`Bearer ${await serverSigned({ aud: 'https://other.example.org/fhir' })}`, /aud/);
    await expect401(`Bearer ${await serverSigned({ iss: 'https://other.example.org/fhir' })}`, /iss/);
  });

  it('the token works against its own server only: another base URL refuses it even once verified', async () => {
    await assert.rejects(t.server.auth.authenticator.authenticate(`Bearer ${token}`, 'https://other.example.org/fhir', undefined), /aud/);
  });
});

describe('Remembered access tokens', () => {
  it('a token verified once is refused once it expires, though it is remembered', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const tokens = new AccessTokens({ alg: 'EdDSA', kid: 'k', privateKey, publicKey }, 300, () => now);
    const { token } = await tokens.issue('client-1', ['system/*.rs'], 'Group/g', 'http://localhost:8080/fhir');
    assert.equal((await tokens.verify(token, 'http://localhost:8080/fhir')).principal, 'client-1');
    now += 299_000;
    assert.equal((await tokens.verify(token, 'http://localhost:8080/fhir')).group, 'Group/g');
    now += 10_000;
    await assert.rejects(tokens.verify(token, 'http://localhost:8080/fhir'), /expired/);
  });
});
