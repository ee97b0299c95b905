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

describe('R4 rules inside nested resources', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('a contained resource whose id breaks the id rule (org_1) is refused at its id', async () => {
    const res = await t
      .api()
      .post('/fhir/Patient/$validate')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'org_1', name: 'Clinic' }], managingOrganization: { reference: '#org_1' } });
    assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]), ['Patient.contained[0].id']);
  });

  it('a Bundle entry resource whose id breaks the id rule is refused at its id', async () => {
    const res = await t
      .api()
      .post('/fhir/Bundle/$validate')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0d3b6bd4-2a5e-4f3c-9d1f-6a1f2f0b5a11', resource: { resourceType: 'Patient', id: 'a b' } }] });
    assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]), ['Bundle.entry[0].resource.id']);
  });

  it('a contained reference (#med1) inside a Bundle entry resolves in that entry: ref-1 holds', async () => {
    const res = await t
      .api()
      .post('/fhir/Bundle/$validate')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          {
            fullUrl: 'urn:uuid:7c1e8a52-1d3c-4d7e-8f5a-0b6c2d9e4f10',
            resource: {
              resourceType: 'MedicationRequest',
              contained: [{ resourceType: 'Medication', id: 'med1', code: { text: 'Amoxicillin 500 mg capsule' } }],
              status: 'active',
              intent: 'order',
              medicationReference: { reference: '#med1' },
              subject: { reference: 'Patient/p-1' },
            },
          },
        ],
      });
    assert.deepEqual(errors(res.body), []);
  });
});

describe('FHIR JSON rules: no null, no empty array, object or string, no lone surrogate', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const validate = (resource: object) => t.api().post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));

  const cases: [string, object, string][] = [
    ['coding: []', { resourceType: 'Patient', maritalStatus: { coding: [] } }, 'Patient.maritalStatus.coding'],
    ['an empty object', { resourceType: 'Patient', maritalStatus: {} }, 'Patient.maritalStatus'],
    ['an empty string', { resourceType: 'Patient', name: [{ family: '' }] }, 'Patient.name[0].family'],
    ['null', { resourceType: 'Patient', gender: null }, 'Patient.gender'],
    ['a lone surrogate', { resourceType: 'Patient', name: [{ family: 'Smith\ud800' }] }, 'Patient.name[0].family'],
  ];
  for (const [what, resource, expression] of cases) {
    it(`${what} is refused at ${expression}`, async () => {
      const res = await validate(resource);
      const found = errors(res.body).map((i) => i.expression?.[0]);
      assert.ok(found.includes(expression), JSON.stringify(res.body));
    });
  }
});
