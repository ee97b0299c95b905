import assert from 'node:assert/strict';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const errors = (body: unknown) => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');

describe('One answer with every problem: each validation stage runs, whatever the others found', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('a MedicationStatement with four problems for four stages gets four issues, each with its expression', async () => {
    const res = await t
      .api()
      .post('/fhir/MedicationStatement')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'MedicationStatement',
        status: 'active',
        dosageInstructions: 'twice a day', // structure (JSON schema): no such element
        medicationCodeableConcept: { text: 'Lisinopril 10 mg tablet' },
        // no subject: cardinality of the base definition
        informationSource: { reference: 'Organization/pharmacy-1' }, // reference target the profile does not allow
        effectivePeriod: { start: '2024-03-01', end: '2024-02-01' }, // data-type invariant per-1
      });
    assert.equal(res.status, 422);
    const found = errors(res.body).map((i) => [i.expression?.[0], i.diagnostics]);
    assert.equal(found.length, 4, JSON.stringify(found));
    assert.deepEqual(found.map(([e]) => e).sort(), [
      'MedicationStatement.dosageInstructions',
      'MedicationStatement.effectivePeriod',
      'MedicationStatement.informationSource',
      'MedicationStatement.subject',
    ]);
  });

  it('a completed CMR Task breaking four invariants gets all four in one answer', async () => {
    const res = await t
      .api()
      .post('/fhir/Task/$validate')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Task',
        status: 'completed',
        intent: 'plan',
        code: { coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type', code: 'cmr' }] },
        for: { reference: 'Patient/p-1' },
      });
    assert.equal(res.status, 200);
    const keys = errors(res.body).map((i) => /Constraint (\S+) not met/.exec(i.diagnostics ?? '')?.[1]);
    assert.deepEqual(keys.sort(), ['mtm-task-1', 'mtm-task-2', 'mtm-task-3', 'mtm-task-4']);
  });

  it('a value of the wrong JSON type is reported once, not once per stage that trips over it', async () => {
    const res = await t
      .api()
      .post('/fhir/MedicationStatement/$validate')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'MedicationStatement', status: 'active', subject: 'Patient/1', medicationCodeableConcept: { coding: 'abc' } });
    const found = errors(res.body).map((i) => i.expression?.[0]);
    assert.deepEqual(found.sort(), ['MedicationStatement.medicationCodeableConcept.coding', 'MedicationStatement.subject']);
  });
});
