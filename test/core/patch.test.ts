import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { createResource, startTestServer, type TestServer } from '../helpers/test-server';

const JSON_PATCH = 'application/json-patch+json';

describe('PATCH with JSON Patch', () => {
  let t: TestServer;
  let patient: Patient & { id: string };
  before(async () => (t = await startTestServer()));
  after(async () => t.close());
  beforeEach(async () => {
    patient = await createResource(t, {
      resourceType: 'Patient',
      name: [{ family: 'Nguyen', given: ['Thanh'] }],
      birthDate: '1951-07-04',
      telecom: [{ system: 'phone', value: '555-0100' }],
    });
  });

  const patchPatient = (ops: unknown, headers: Record<string, string> = {}) =>
    t.api().patch(`/fhir/Patient/${patient.id}`).set('Content-Type', JSON_PATCH).set(headers).send(JSON.stringify(ops));

  it('applies the operations and creates a new version', async () => {
    const res = await patchPatient([
      { op: 'replace', path: '/birthDate', value: '1951-07-05' },
      { op: 'add', path: '/gender', value: 'male' },
      { op: 'remove', path: '/telecom' },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.body.birthDate, '1951-07-05');
    assert.equal(res.body.gender, 'male');
    assert.equal(res.body.telecom, undefined);
    assert.equal(res.body.meta.versionId, '2');
    const history = await t.api().get(`/fhir/Patient/${patient.id}/_history`);
    assert.equal(history.body.entry[0].request.method, 'PATCH');
  });

  it('answers 422 when the patched resource is invalid', async () => {
    const res = await patchPatient([{ op: 'replace', path: '/birthDate', value: 'last tuesday' }]);
    assert.equal(res.status, 422);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    const unchanged = await t.api().get(`/fhir/Patient/${patient.id}`);
    assert.equal(unchanged.body.meta.versionId, '1');
  });

  it('refuses operations on id, resourceType and meta.versionId', async () => {
    for (const path of ['/id', '/resourceType', '/meta/versionId', '/meta']) {
      const res = await patchPatient([{ op: 'replace', path, value: 'x' }]);
      assert.equal(res.status, 422, path);
      assert.match(res.body.issue[0].diagnostics, /only the server sets it/);
    }
  });

  it('answers 409 when a test operation fails, and applies nothing', async () => {
    const res = await patchPatient([
      { op: 'test', path: '/birthDate', value: '1900-01-01' },
      { op: 'replace', path: '/birthDate', value: '1951-07-05' },
    ]);
    assert.equal(res.status, 409);
    assert.equal((await t.api().get(`/fhir/Patient/${patient.id}`)).body.birthDate, '1951-07-04');
  });

  it('answers 400 for a patch that is not an array of operations', async () => {
    const res = await patchPatient({ op: 'replace', path: '/birthDate', value: '1951-07-05' });
    assert.equal(res.status, 400);
  });

  it('refuses prototype-polluting paths', async () => {
    const res = await patchPatient([{ op: 'add', path: '/__proto__/polluted', value: true }]);
    assert.equal(res.status, 400);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('answers 415 for a resource body sent as PATCH', async () => {
    const res = await t.api().patch(`/fhir/Patient/${patient.id}`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(patient));
    assert.equal(res.status, 415);
  });

  it('answers 412 to a stale If-Match', async () => {
    const res = await patchPatient([{ op: 'add', path: '/gender', value: 'male' }], { 'If-Match': 'W/"5"' });
    assert.equal(res.status, 412);
  });

  it('answers 404 for a missing resource', async () => {
    const res = await t.api().patch('/fhir/Patient/nobody').set('Content-Type', JSON_PATCH).send('[]');
    assert.equal(res.status, 404);
  });
});
