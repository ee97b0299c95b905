import assert from 'node:assert/strict';
import type { Group, Parameters } from '@medplum/fhirtypes';
import { authHeader, tokenFor } from '../helpers/auth';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { createAll, DRUGS, medicationRequest, usCorePatient } from './ehr-fixtures';

describe('MTM operations under the access policy', () => {
  let t: TestServer;
  let member: string;
  let outsider: string;
  let groupId: string;
  before(async () => {
    t = await startTestServer();
    member = (await usCorePatient(t, 70, 'Member')).id;
    outsider = (await usCorePatient(t, 70, 'Outsider')).id;
    for (const id of [member, outsider]) await createAll(t, [medicationRequest(id, DRUGS.oxycodoneApap), medicationRequest(id, DRUGS.diazepam)]);
    groupId = (await createResource<Group>(t, { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${member}` } }] })).id;
  });
  after(async () => t.close());

  const post = (path: string, token: string, parameter: unknown[] = []) =>
    t.api().post(`/fhir/${path}`).set(authHeader(token)).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter }));

  it('refuses a client without the scopes an operation declares (403)', async () => {
    const token = await tokenFor(t, { scopes: 'system/Patient.rs' });
    for (const path of [`Patient/${member}/$mtm-review`, `Patient/${member}/$mtm-eligibility`, '$mtm-eligibility']) {
      const res = await post(path, token);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });

  it('refuses persist=true and enroll=true without the scope to create what they write', async () => {
    const token = await tokenFor(t, { scopes: 'system/Patient.rs system/MedicationStatement.rs system/MedicationRequest.rs system/MedicationDispense.rs system/Condition.rs system/ExplanationOfBenefit.rs' });
    assert.equal((await post(`Patient/${member}/$mtm-review`, token)).status, 200);
    assert.equal((await post(`Patient/${member}/$mtm-review`, token, [{ name: 'persist', valueBoolean: true }])).status, 403);
    assert.equal((await post(`Patient/${member}/$mtm-eligibility`, token, [{ name: 'enroll', valueBoolean: true }])).status, 403);
  });

  it('shows a Group-bound client nothing outside its Group', async () => {
    const token = await tokenFor(t, { scopes: 'system/*.cruds', group: `Group/${groupId}` });
    const mine = await post(`Patient/${member}/$mtm-review`, token);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.ok(((mine.body as Parameters).parameter ?? []).some((p) => p.name === 'issue'));
    for (const path of [`Patient/${outsider}/$mtm-review`, `Patient/${outsider}/$mtm-eligibility`]) {
      const res = await post(path, token);
      assert.ok(res.status === 404 || res.status === 403, `${path}: ${res.status}`);
      assert.ok(!JSON.stringify(res.body).includes('Outsider'));
    }
    const all = await post('$mtm-eligibility', token);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const patients = ((all.body as Parameters).parameter ?? []).filter((p) => p.name === 'result').map((r) => r.part?.find((x) => x.name === 'patient')?.valueReference?.reference);
    assert.deepEqual(patients, [`Patient/${member}`]);
    const named = await post('$mtm-eligibility', token, [{ name: 'patient', valueReference: { reference: `Patient/${outsider}` } }]);
    assert.equal(((named.body as Parameters).parameter ?? []).filter((p) => p.name === 'result').length, 0, 'a named outsider is left out');
  });
});
