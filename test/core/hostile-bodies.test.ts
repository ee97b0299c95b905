import assert from 'node:assert/strict';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

describe('Hostile request bodies', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  const post = (body: string) => t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);

  async function assertStillServing(): Promise<void> {
    const res = await t.api().get('/fhir/metadata');
    assert.equal(res.status, 200);
  }

  for (const [name, body] of [
    ['__proto__', '{"resourceType":"Patient","__proto__":{"admin":true}}'],
    ['constructor', '{"resourceType":"Patient","name":[{"constructor":{"prototype":{"x":1}}}]}'],
    ['$where', '{"resourceType":"Patient","$where":"sleep(1000)"}'],
    ['$ne nested', '{"resourceType":"Patient","identifier":[{"value":{"$ne":null}}]}'],
  ] as const) {
    it(`refuses a body with a ${name} key with 400 and stores nothing`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /forbidden key/);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      const history = await t.api().get('/fhir/Patient/_history');
      assert.equal(history.body.entry.length, 0);
    });
  }

  it('refuses 10,000 levels of nesting with 400 and keeps serving', async () => {
    const deep = `{"resourceType":"Patient","extension":${'['.repeat(10000)}${']'.repeat(10000)}}`;
    const res = await post(deep);
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /nests deeper/);
    await assertStillServing();
  });

  it('refuses a 20 MB body with 413 and keeps serving', async () => {
    const huge = `{"resourceType":"Patient","text":{"status":"generated","div":"<div>${'a'.repeat(20 * 1024 * 1024)}</div>"}}`;
    const res = await post(huge);
    assert.equal(res.status, 413);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    await assertStillServing();
  });

  it('treats a query key that looks like a Mongo operator as a plain string', async () => {
    const res = await t.api().get('/fhir/Patient/_history?_count[$gt]=1');
    assert.ok(res.status < 500);
    await assertStillServing();
  });

  it('answers 400 for a body that is JSON but not an object', async () => {
    for (const body of ['[1,2,3]', '"Patient"', 'null', '42']) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
    }
  });
});
