/**
 * SMART Backend Services token endpoint: a registered client gets an access token only with a
 * client assertion that passes every check the specification lists; every forged, expired,
 * replayed or misaddressed assertion is refused with OAuth's invalid_client.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import {
  authHeader,
  bearerToken,
  CLIENT_ASSERTION_TYPE,
  makeKey,
  registerClient,
  signAssertion,
  tokenEndpoint,
  tokenRequest,
  type TestClient,
} from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

describe('Token endpoint (SMART Backend Services, private_key_jwt)', () => {
  let t: TestServer;
  let client: TestClient;
  let aud: string;

  before(async () => {
    t = await startTestServer();
    client = await registerClient(t, { scopes: 'system/Patient.rs system/Task.cruds', group: 'Group/payer-members' });
    aud = await tokenEndpoint(t);
  });
  after(() => t.close());

  async function refused(assertion: string, scope = client.scopes): Promise<string> {
    const res = await tokenRequest(t, assertion, scope);
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.error, 'invalid_client');
    assert.equal(res.body.access_token, undefined);
    return res.body.error_description as string;
  }

  it('discovery names the token endpoint under the FHIR base, and the signing algorithms it accepts', async () => {
    const res = await t.api().get(`${t.base}/.well-known/smart-configuration`);
    assert.equal(res.status, 200);
    assert.match(res.body.token_endpoint, /\/fhir\/auth\/token$/);
    assert.deepEqual(res.body.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
    assert.deepEqual(res.body.grant_types_supported, ['client_credentials']);
    assert.ok(res.body.capabilities.includes('client-confidential-asymmetric'));
  });

  it('an ES384 client gets a short-lived bearer token with the scopes it asked for, not cached by intermediaries', async () => {
    const res = await tokenRequest(t, await signAssertion(client, aud), 'system/Patient.rs');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'bearer');
    assert.equal(res.body.expires_in, 300);
    assert.equal(res.body.scope, 'system/Patient.rs');
    assert.equal(res.headers['cache-control'], 'no-store');
    const read = await t.api().get(`${t.base}/Patient`).set(authHeader(res.body.access_token));
    assert.equal(read.status, 200);
  });

  it('an RS384 client is accepted too', async () => {
    const rsa = await registerClient(t, { scopes: 'system/*.rs', alg: 'RS384' });
    const token = await bearerToken(t, rsa);
    assert.equal((await t.api().get(`${t.base}/Patient`).set(authHeader(token))).status, 200);
  });

  it('the key is chosen by kid among several registered keys', async () => {
    const first = await makeKey('ES384');
    const second = await makeKey('RS384');
    const record = await t.server.auth.clients.add({ name: 'two keys', jwks: { keys: [first.publicJwk, second.publicJwk] }, scope: 'system/*.rs' });
    for (const [key, alg] of [[first, 'ES384'], [second, 'RS384']] as const) {
      const assertion = await signAssertion({ id: record._id, kid: key.kid, alg, privateKey: key.privateKey }, aud);
      assert.equal((await tokenRequest(t, assertion, 'system/*.rs')).status, 200, `key ${alg}`);
    }
    // The right kid with the other key's signature is a forgery.
    await refused(await signAssertion({ id: record._id, kid: first.kid, alg: 'RS384', privateKey: second.privateKey }, aud), 'system/*.rs');
  });

  it('refuses an assertion signed with a key that is not the client\'s, even under its kid', async () => {
    const stranger = await makeKey('ES384');
    assert.match(await refused(await signAssertion({ ...client, privateKey: stranger.privateKey }, aud)), /signature/);
  });

  it('refuses an assertion naming a kid the client never registered', async () => {
    assert.match(await refused(await signAssertion({ ...client, kid: 'unknown-kid' }, aud)), /kid/);
  });

  it('refuses an expired assertion', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    assert.match(await refused(await signAssertion(client, aud, { exp: past })), /expired/);
  });

  it('refuses an assertion that expires more than five minutes ahead', async () => {
    const later = Math.floor(Date.now() / 1000) + 3600;
    assert.match(await refused(await signAssertion(client, aud, { exp: later })), /five minutes/);
  });

  it('refuses an assertion without exp or jti', async () => {
    await refused(await signAssertion(client, aud, { exp: undefined }));
    await refused(await signAssertion(client, aud, { jti: undefined }));
  });

  it('refuses a replayed assertion: the same jti works once', async () => {
    const assertion = await signAssertion(client, aud);
    assert.equal((await tokenRequest(t, assertion, client.scopes)).status, 200);
    assert.match(await refused(assertion), /used before/);
    // A new assertion with the same jti is a replay too.
    const jti = crypto.randomUUID();
    assert.equal((await tokenRequest(t, await signAssertion(client, aud, { jti }), client.scopes)).status, 200);
    await refused(await signAssertion(client, aud, { jti }));
  });

  it('refuses an assertion addressed to another audience', async () => {
    assert.match(await refused(await signAssertion(client, 'https://other.example.org/fhir/auth/token')), /audience/);
    // The FHIR base is not the token endpoint.
    await refused(await signAssertion(client, aud.replace(/\/auth\/token$/, '')));
  });

  it('refuses an assertion whose sub is not its iss, or whose issuer is not registered', async () => {
    const other = await registerClient(t, { scopes: 'system/*.rs' });
    await refused(await signAssertion(client, aud, { sub: other.id }));
    await refused(await signAssertion({ ...client, id: crypto.randomUUID() }, aud));
  });

  it('refuses algorithms other than RS384 and ES384, unsigned assertions and jku', async () => {
    const { privateKey: p256 } = await generateKeyPair('ES256');
    await refused(await signAssertion({ ...client, alg: 'ES256' as 'ES384', privateKey: p256 }, aud));
    const hs = await new SignJWT({ iss: client.id, sub: client.id, aud, exp: Math.floor(Date.now() / 1000) + 60, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: client.kid })
      .sign(crypto.randomBytes(32));
    await refused(hs);
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: client.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: client.id, sub: client.id, aud, exp: Math.floor(Date.now() / 1000) + 60, jti: crypto.randomUUID() })).toString('base64url');
    await refused(`${header}.${body}.`);
    await refused(await signAssertion(client, aud, {}, { jku: 'https://attacker.example.org/jwks.json' }));
  });

  it('grants only the scopes the registration covers, and refuses a request for none of them', async () => {
    const res = await tokenRequest(t, await signAssertion(client, aud), 'system/Patient.r system/Observation.rs system/Task.cud');
    assert.equal(res.status, 200);
    assert.equal(res.body.scope, 'system/Patient.r system/Task.cud');
    const none = await tokenRequest(t, await signAssertion(client, aud), 'system/Observation.rs system/*.cruds');
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_scope');
  });

  it('answers malformed token requests with OAuth errors, never a token', async () => {
    const form = (fields: Record<string, string>) =>
      t.api().post(`${t.base}/auth/token`).set('Content-Type', 'application/x-www-form-urlencoded').send(new URLSearchParams(fields).toString());
    const assertion = await signAssertion(client, aud);
    const password = await form({ grant_type: 'password', username: 'a', password: 'b', scope: 'system/*.rs' });
    assert.equal(password.status, 400);
    assert.equal(password.body.error, 'unsupported_grant_type');
    const noType = await form({ grant_type: 'client_credentials', client_assertion: assertion, scope: 'system/*.rs' });
    assert.equal(noType.body.error, 'invalid_request');
    const noScope = await form({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
    assert.equal(noScope.body.error, 'invalid_scope');
    const garbage = await form({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'not.a.jwt', scope: 'system/*.rs' });
    assert.equal(garbage.body.error, 'invalid_client');
    const json = await t.api().post(`${t.base}/auth/token`).set('Content-Type', 'application/json').send('{}');
    assert.equal(json.status, 400);
    assert.equal(json.body.error, 'invalid_request');
    assert.equal((await t.api().get(`${t.base}/auth/token`)).status, 405);
  });

  it('after a key rotation the old key is refused and the new one accepted', async () => {
    const rotating = await registerClient(t, { scopes: 'system/*.rs' });
    const next = await makeKey('ES384');
    await t.server.auth.clients.rotate(rotating.id, { keys: [next.publicJwk] });
    await refused(await signAssertion(rotating, aud), 'system/*.rs');
    const res = await tokenRequest(t, await signAssertion({ ...rotating, kid: next.kid, privateKey: next.privateKey }, aud), 'system/*.rs');
    assert.equal(res.status, 200);
  });

  it('a removed client gets no more tokens', async () => {
    const leaving = await registerClient(t, { scopes: 'system/*.rs' });
    assert.equal(await t.server.auth.clients.remove(leaving.id), true);
    await refused(await signAssertion(leaving, aud), 'system/*.rs');
  });
});
