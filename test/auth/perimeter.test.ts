/**
 * The perimeter: what any caller meets before an interaction runs. Links are never built from the
 * Host header; every answer carries the security headers; CORS only for listed origins; a client
 * sending too fast gets 429; oversized resources are refused while the body is parsed.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { testConfig } from '../../src/config';
import { listen } from '../../src/server';
import { authHeader, bearerToken, registerClient } from '../helpers/auth';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const perimeter = testConfig().perimeter;

describe('Perimeter', () => {
  describe('links and headers', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer();
    });
    after(() => t.close());

    it('a forged Host header does not reach Location, fullUrl or Bundle links', async () => {
      const created = await t.api().post(`${t.base}/Patient`).set('Host', 'evil.example.org').set('Content-Type', FHIR_JSON).send('{"resourceType":"Patient"}');
      assert.equal(created.status, 201);
      assert.match(created.headers.location, /^http:\/\/localhost:8080\/fhir\/Patient\//);
      const search = await t.api().get(`${t.base}/Patient?_count=1`).set('Host', 'evil.example.org').set('X-Forwarded-Host', 'evil.example.org');
      const text = JSON.stringify(search.body);
      assert.ok(!text.includes('evil.example.org'), text);
      assert.match(search.body.link[0].url, /^http:\/\/localhost:8080\/fhir\/Patient\?/);
      assert.match(search.body.entry[0].fullUrl, /^http:\/\/localhost:8080\/fhir\/Patient\//);
    });

    it('every answer says nosniff and no-store, errors and metadata included; no HSTS unless configured', async () => {
      for (const path of ['/Patient', '/metadata', '/Patient/missing', '/NoSuchType', '/.well-known/smart-configuration']) {
        const res = await t.api().get(`${t.base}${path}`);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
        assert.equal(res.headers['cache-control'], 'no-store', path);
        assert.equal(res.headers['strict-transport-security'], undefined, path);
      }
      const outside = await t.api().get('/elsewhere');
      assert.equal(outside.headers['x-content-type-options'], 'nosniff');
    });

    it('CORS is off by default: a page from another origin gets no CORS headers', async () => {
      const res = await t.api().get(`${t.base}/Patient`).set('Origin', 'https://app.example.org');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.equal((await t.api().get(`${t.base}/metadata`)).body.rest[0].security.cors, false);
    });
  });

  describe('configured: HSTS and a CORS allow-list', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ perimeter: { ...perimeter, hstsMaxAge: 31536000, corsOrigins: ['https://app.example.org'] } });
      await registerClient(t, { scopes: 'system/*.rs' });
    });
    after(() => t.close());

    it('sends HSTS on every answer, and the CapabilityStatement says CORS is on', async () => {
      const res = await t.api().get(`${t.base}/metadata`);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      assert.equal(res.body.rest[0].security.cors, true);
    });

    it('a listed origin is allowed, with its preflight answered before authentication; others are not', async () => {
      const allowed = await t.api().get(`${t.base}/metadata`).set('Origin', 'https://app.example.org');
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.org');
      assert.match(allowed.headers['access-control-expose-headers'], /Location/);
      const preflight = await t.api()
        .options(`${t.base}/Patient`)
        .set('Origin', 'https://app.example.org')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers['access-control-allow-headers'], /Authorization/);
      assert.match(preflight.headers['access-control-allow-methods'], /POST/);
      const other = await t.api().get(`${t.base}/metadata`).set('Origin', 'https://evil.example.org');
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      const otherPreflight = await t.api().options(`${t.base}/Patient`).set('Origin', 'https://evil.example.org').set('Access-Control-Request-Method', 'GET');
      assert.equal(otherPreflight.headers['access-control-allow-origin'], undefined);
      assert.notEqual(otherPreflight.status, 204);
    });
  });

  describe('per-client rate limit', () => {
    let t: TestServer;
    before(async () => {
      // Three requests at once, then (practically) nothing: one more every 1000 s.
      t = await startTestServer({ perimeter: { ...perimeter, rateLimitPerSecond: 0.001, rateLimitBurst: 3 } });
    });
    after(() => t.close());

    it('a client over its rate gets 429 with Retry-After and an OperationOutcome; another client is unaffected', async () => {
      const first = await registerClient(t, { scopes: 'system/*.rs' });
      const second = await registerClient(t, { scopes: 'system/*.rs' });
      const tokens = [await bearerToken(t, first), await bearerToken(t, second)];
      for (let i = 0; i < 3; i++) assert.equal((await t.api().get(`${t.base}/Patient`).set(authHeader(tokens[0]))).status, 200);
      const refused = await t.api().get(`${t.base}/Patient`).set(authHeader(tokens[0]));
      assert.equal(refused.status, 429);
      assert.equal(refused.body.resourceType, 'OperationOutcome');
      assert.equal(refused.body.issue[0].code, 'throttled');
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal((await t.api().get(`${t.base}/Patient`).set(authHeader(tokens[1]))).status, 200);
    });
  });

  describe('resource size limits, checked while the body is parsed', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ perimeter: { ...perimeter, maxArrayLength: 50, maxResourceElements: 400, maxStringLength: 1000 } });
    });
    after(() => t.close());

    const patient = (extra: object) => JSON.stringify({ resourceType: 'Patient', ...extra });
    const post = (body: string) => t.api().post(`${t.base}/Patient`).set('Content-Type', FHIR_JSON).send(body);

    it('refuses an array longer than the limit with 413, naming it, and stores nothing', async () => {
      const res = await post(patient({ identifier: Array.from({ length: 51 }, (_, i) => ({ system: 'urn:x', value: String(i) })) }));
      assert.equal(res.status, 413);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /identifier.*51 items.*50/);
      assert.equal((await t.api().get(`${t.base}/Patient?_summary=count`)).body.total, 0);
      assert.equal((await post(patient({ identifier: Array.from({ length: 50 }, (_, i) => ({ system: 'urn:x', value: String(i) })) }))).status, 201);
    });

    it('refuses a resource with more elements than the limit, even in short arrays', async () => {
      const names = Array.from({ length: 40 }, () => ({ family: 'F', given: ['A', 'B', 'C', 'D', 'E', 'G', 'H', 'I', 'J'] }));
      const res = await post(patient({ name: names }));
      assert.equal(res.status, 413);
      assert.match(res.body.issue[0].diagnostics, /more than 400 elements/);
    });

    it('refuses a string longer than the limit', async () => {
      const res = await post(patient({ name: [{ family: 'x'.repeat(1001) }] }));
      assert.equal(res.status, 413);
      assert.match(res.body.issue[0].diagnostics, /name\[0\]\.family.*1001 characters/);
    });

    it('counts each resource of a Bundle on its own', async () => {
      const entry = (i: number) => ({ resource: { resourceType: 'Patient', name: [{ family: `F${i}`, given: ['A', 'B'] }] }, request: { method: 'POST', url: 'Patient' } });
      const fine = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 40 }, (_, i) => entry(i)) };
      const ok = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(fine));
      assert.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 500));
      const big = { resourceType: 'Bundle', type: 'transaction', entry: [entry(0), { ...entry(1), resource: { resourceType: 'Patient', identifier: Array.from({ length: 60 }, () => ({ value: 'v' })) } }] };
      const refused = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(big));
      assert.equal(refused.status, 413);
      assert.match(refused.body.issue[0].diagnostics, /entry\[1\]\.resource\.identifier/);
    });
  });
});

describe('Perimeter: connections', () => {
  let t: TestServer;
  let http: Server;
  let port: number;
  before(async () => {
    t = await startTestServer({ perimeter: { ...perimeter, headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 2 } });
    http = await listen(t.server, 0, '127.0.0.1');
    port = (http.address() as AddressInfo).port;
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await t.close();
  });

  /** Opens a raw connection, writes `text`, and resolves with everything the server sent until it closed. */
  function rawExchange(text: string, socket = net.connect(port, '127.0.0.1')): Promise<string> {
    return new Promise((resolve) => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(received));
      socket.write(text);
    });
  }

  it('a body that never finishes is cut off with 408 instead of holding the connection', async () => {
    const answer = await rawExchange('POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{"resourceType"');
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /"resourceType":"OperationOutcome"/);
    assert.match(answer, /"resourceType":"OperationOutcome"/);
  });

  it('headers that never finish are cut off too', async () => {
    const answer = await rawExchange('GET /fhir/Patient HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /"resourceType":"OperationOutcome"/);
    assert.match(answer, /"resourceType":"OperationOutcome"/);
  });

  it('connections beyond the cap are closed at once, while those within it are served', async () => {
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = net.connect(port, '127.0.0.1');
        open.push(socket);
        const answered = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString())));
        socket.write('GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
        assert.match(await answered, /^HTTP\/1\.1 200/);
      }
      const refused = await rawExchange('GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(refused, '');
    } finally {
      for (const socket of open) socket.destroy();
    }
  });
});

describe('Perimeter: delete limits across a batch or transaction', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxConditionalDeletes: 3 });
  });
  after(() => t.close());

  async function patients(tag: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await createResource(t, { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: tag }] })).id);
    return ids;
  }
  const remaining = async (tag: string) => (await t.api().get(`${t.base}/Patient?identifier=urn:test|${tag}&_summary=count`)).body.total as number;
  const post = (bundle: object) => t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));

  it('a batch of more DELETE entries than the limit is refused whole with 412, and deletes nothing', async () => {
    const ids = await patients('plain', 4);
    const res = await post({ resourceType: 'Bundle', type: 'batch', entry: ids.map((id) => ({ request: { method: 'DELETE', url: `Patient/${id}` } })) });
    assert.equal(res.status, 412);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics, /4 DELETE entries.*at most 3/);
    assert.equal(await remaining('plain'), 4);
  });

  it('conditional deletes in one transaction share the limit: over it, the whole transaction fails', async () => {
    await patients('left', 2);
    await patients('right', 2);
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: ['left', 'right'].map((tag) => ({ request: { method: 'DELETE', url: `Patient?identifier=urn:test|${tag}` } })),
    });
    assert.equal(res.status, 412);
    assert.equal(await remaining('left'), 2);
    assert.equal(await remaining('right'), 2);
  });

  it('in a batch, the entry that would pass the limit fails alone and the earlier ones stand', async () => {
    await patients('first', 2);
    await patients('second', 2);
    const res = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: ['first', 'second'].map((tag) => ({ request: { method: 'DELETE', url: `Patient?identifier=urn:test|${tag}` } })),
    });
    assert.equal(res.status, 200);
    assert.match(res.body.entry[0].response.status, /^200/);
    assert.match(res.body.entry[1].response.status, /^412/);
    assert.equal(await remaining('first'), 0);
    assert.equal(await remaining('second'), 2);
  });
});
