import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { testConfig } from '../../src/config';
import { listen } from '../../src/server';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const PATCH = 'application/json-patch+json';

/** Inputs a fuzzer found answered with 500 or with the wrong status: each now gets its status and an OperationOutcome. */
describe('Fuzzed inputs get the status the FHIR specification names, never a 500', () => {
  let t: TestServer;
  let patientId: string;
  before(async () => {
    // The 130,000-element array below is about the transaction path, not the resource size limits
    // (test/auth/perimeter.test.ts), so they are raised above it here.
    t = await startTestServer({ perimeter: { ...testConfig().perimeter, maxArrayLength: 200_000, maxResourceElements: 1_000_000 } });
    patientId = (await createResource(t, { resourceType: 'Patient', name: [{ family: 'Fuzz', given: ['A'] }] })).id;
  });
  after(async () => t.close());

  const isOutcome = (body: unknown) => assert.equal((body as OperationOutcome).resourceType, 'OperationOutcome', JSON.stringify(body));

  it('POST /Patient/$validate with the body null: 400', async () => {
    const res = await t.api().post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send('null');
    assert.equal(res.status, 400);
    isOutcome(res.body);
  });

  it('PATCH moving /name into its own child /name/0: 422, and the patient is unchanged', async () => {
    const res = await t.api().patch(`/fhir/Patient/${patientId}`).set('Content-Type', PATCH).send(JSON.stringify([{ op: 'move', from: '/name', path: '/name/0' }]));
    assert.equal(res.status, 422);
    isOutcome(res.body);
    assert.equal((await t.api().get(`/fhir/Patient/${patientId}`)).body.meta.versionId, '1');
  });

  it('PATCH with an invalid JSON Pointer escape (~2): 400', async () => {
    const res = await t.api().patch(`/fhir/Patient/${patientId}`).set('Content-Type', PATCH).send(JSON.stringify([{ op: 'replace', path: '/name~2', value: [] }]));
    assert.equal(res.status, 400);
    assert.match((res.body as OperationOutcome).issue[0].diagnostics ?? '', /not a JSON Pointer/);
  });

  for (const id of ['a'.repeat(65), '..%2F..', 'a%00b']) {
    it(`DELETE of the syntactically invalid id ${id.length > 20 ? `"a" x ${id.length}` : id}: 400, not "nothing to delete"`, async () => {
      const res = await t.api().delete(`/fhir/Patient/${id}`);
      assert.equal(res.status, 400);
      assert.match((res.body as OperationOutcome).issue[0].diagnostics ?? '', /not a valid FHIR id/);
    });
  }

  it('a transaction entry holding an array of 130,000 elements is stored, as by a plain POST', async () => {
    // In an element no search parameter indexes, so the stored size stays far below the limit.
    const given = Array.from({ length: 130_000 }, () => 'x');
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', contact: [{ name: { family: 'Long', given } }] } }],
    };
    const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    assert.equal((res.body as Bundle).entry?.[0].response?.status, '201 Created');
  });

  for (const query of ['_offset=-5', '_offset=abc', '_sort=unknown']) {
    it(`${query}: 400 under Prefer: handling=strict, a warning in the Bundle's outcome entry otherwise`, async () => {
      const strict = await t.api().get(`/fhir/Patient?${query}`).set('Prefer', 'handling=strict');
      assert.equal(strict.status, 400);
      isOutcome(strict.body);
      const lenient = await t.api().get(`/fhir/Patient?${query}`);
      assert.equal(lenient.status, 200);
      const outcomeEntry = (lenient.body as Bundle).entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
      assert.equal(outcomeEntry?.issue[0].severity, 'warning');
    });
  }

  describe('over a real socket', () => {
    let server: http.Server;
    before(async () => {
      server = await listen(t.server, 0);
    });
    after(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    const get = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const port = (server.address() as AddressInfo).port;
        const req = http.request({ host: '127.0.0.1', port, path, headers }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
        });
        req.on('error', reject);
        req.end();
      });

    it('a header over the limit: 431 with an OperationOutcome', async () => {
      const res = await get('/fhir/Patient', { 'X-Padding': 'x'.repeat(70_000) });
      assert.equal(res.status, 431);
      assert.match(res.type, /application\/fhir\+json/);
      isOutcome(JSON.parse(res.body));
    });

    it('a URL over the limit: 431 with an OperationOutcome', async () => {
      const res = await get(`/fhir/Patient?name=${'x'.repeat(70_000)}`);
      assert.equal(res.status, 431);
      isOutcome(JSON.parse(res.body));
    });
  });
});
