import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, List, Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const examples = path.resolve(__dirname, '../../examples/discharge');
const readBundle = (name: string) => JSON.parse(fs.readFileSync(path.join(examples, name), 'utf8')) as Bundle;
const FLAG_SYSTEM = 'urn:oid:1.2.36.1.2001.1001.101.104.16592';

function part(p: ParametersParameter, name: string): ParametersParameter[] {
  return (p.part ?? []).filter((x) => x.name === name);
}

describe('Hospital discharge through $smp-submit, reconciliation and $smp-query', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    const current = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(readBundle('current-medication-list.bundle.json')));
    assert.equal(current.status, 200, JSON.stringify(current.body));
  });
  after(async () => t.close());

  const submit = () =>
    t
      .api()
      .post('/fhir/$smp-submit')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'smp-medication-data', resource: readBundle('discharge-transaction.bundle.json') }] }));

  it('reconciles the discharge list: one changed dose, one ceased, two new, the rest unchanged', async () => {
    const res = await submit();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const output = res.body as Parameters;
    const reconciliation = output.parameter?.find((p) => p.name === 'reconciliation') as ParametersParameter;
    assert.ok(reconciliation, 'a reconciliation is reported');
    const outcomes = part(reconciliation, 'item').map((item) => part(item, 'outcome')[0].valueCoding?.code);
    const count = (code: string) => outcomes.filter((c) => c === code).length;
    assert.equal(count('02'), 1, 'one changed');
    assert.equal(count('05'), 1, 'one ceased');
    assert.equal(count('04'), 2, 'two new');
    assert.equal(count('01'), outcomes.length - 4, 'the rest unchanged');

    const submittedRef = part(reconciliation, 'submitted-list')[0].valueReference?.reference as string;
    const submitted = (await t.api().get(`/fhir/${submittedRef}`)).body as List;
    const flags = (submitted.entry ?? []).map((e) => e.flag?.coding?.[0]);
    assert.ok(flags.every((f) => f?.system === FLAG_SYSTEM), 'every entry is flagged with list-item-flag');
    const ceased = (submitted.entry ?? []).filter((e) => e.flag?.coding?.[0].code === '05');
    // The example lists amlodipine with status "stopped", so its entry stays, flagged ceased.
    assert.equal(ceased.length, 1);

    const currentRef = part(reconciliation, 'current-list')[0].valueReference?.reference as string;
    const currentHistory = await t.api().get(`/fhir/${currentRef}/_history`);
    assert.equal(currentHistory.body.total, 2, 'the current list has a new version; the old one stays in history');
    const taskRef = part(reconciliation, 'review-task')[0].valueReference?.reference as string;
    const task = (await t.api().get(`/fhir/${taskRef}`)).body as Task;
    assert.equal(task.code?.coding?.[0].code, 'post-discharge-review');
    assert.equal(task.status, 'requested');
  });

  it('creates no duplicates when the same discharge Bundle is submitted again', async () => {
    const before = (await t.api().get('/fhir/MedicationStatement?_summary=count')).body.total as number;
    const patients = (await t.api().get('/fhir/Patient?_summary=count')).body.total as number;
    const res = await submit();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await t.api().get('/fhir/MedicationStatement?_summary=count')).body.total, before);
    assert.equal((await t.api().get('/fhir/Patient?_summary=count')).body.total, patients);
  });

  it('returns the patient medication list through $smp-query, matched by identifier', async () => {
    const patient = readBundle('discharge-transaction.bundle.json').entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
    const res = await t
      .api()
      .post('/fhir/$smp-query')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'patient', resource: patient }] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = (res.body as Parameters).parameter?.find((p) => p.name === 'smp-medication-data')?.resource as Bundle;
    assert.equal(data.type, 'collection');
    const types = data.entry?.map((e) => e.resource?.resourceType) ?? [];
    assert.equal(types[0], 'List');
    assert.ok(types.includes('Patient'));
    assert.ok(types.filter((x) => x === 'MedicationStatement').length >= 8);
  });

  it('refuses to guess when no patient matches', async () => {
    const res = await t
      .api()
      .post('/fhir/$smp-query')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:x', value: 'nobody' }] } }] }));
    assert.equal(res.status, 404);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });
});
