import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/validation';
import {
  smpDetectedIssue,
  smpMedicationActionPlan,
  smpMedicationLists,
  smpMedicationStatements,
  smpTransactionBundle,
} from '../fixtures/smp-examples';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const validator = createResourceValidator({ lenientUnknownProfiles: false });
const errorsOf = (resource: Resource) =>
  validator
    .validate(resource)
    .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('Our profiles are no stricter than HL7 SMP: resources equivalent to its example instances pass', () => {
  const instances: [string, Resource][] = [
    ...Object.entries(smpMedicationStatements),
    ...Object.entries(smpMedicationLists),
    ['example-di01-duplicateTherapy', smpDetectedIssue],
    ['example-MAP-Alprazolam-Metoclopramide-01', smpMedicationActionPlan],
  ];
  for (const [name, resource] of instances) {
    it(`${name} (${resource.resourceType}) is valid against the MTM profile that applies to it`, () => {
      const result = validator.validate(resource);
      assert.deepEqual(errorsOf(resource), []);
      assert.equal(result.appliedProfiles.length, 1, 'an MTM profile applied without being claimed');
    });
  }

  it('what MTM wants beyond SMP comes back as warnings, naming the CMS need', () => {
    const issues = validator.validate(smpMedicationStatements['example-MedicationStatement-alprazolam-01']).issues;
    const warnings = issues.filter((i) => i.severity === 'warning').map((i) => i.diagnostics ?? '');
    assert.ok(warnings.some((w) => w.startsWith('mtm-ms-1:') && w.includes('Why I use it')), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.startsWith('mtm-ms-2:') && w.includes('How I use it')), warnings.join('\n'));
  });
});

describe('A hospital sending SMP-conformant data over HTTP', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('stores a MedicationStatement with effectiveDateTime (SMP example smp-medstmt-1): 201', async () => {
    const stored = await createResource(t, smpMedicationStatements['smp-medstmt-1']);
    assert.equal(stored.effectiveDateTime, '2024-06-01');
  });

  it('stores an OTC product known only by text, and shows what the PML still needs with Prefer: return=OperationOutcome', async () => {
    const res = await t
      .api()
      .post('/fhir/MedicationStatement')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=OperationOutcome')
      .send({ resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Fish oil 1000 mg capsule' }, subject: { reference: 'Patient/example' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const outcome = res.body as OperationOutcome;
    const warnings = (outcome.issue ?? []).filter((i) => i.severity === 'warning').map((i) => i.diagnostics);
    assert.deepEqual(
      warnings.map((w) => w?.split(':')[0]),
      ['mtm-ms-1', 'mtm-ms-2', 'mtm-ms-3'],
      'reason, dosage text and dateAsserted are reported; no RxNorm warning for a medicine without codes',
    );
  });

  it('takes a whole SMP discharge transaction holding an effectiveDateTime statement (smp-bundle-tx-1): 200', async () => {
    const patient = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Example' }] });
    const practitioner = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'One' }] });
    const bundle = smpTransactionBundle(`Patient/${patient.id}`, `Practitioner/${practitioner.id}`);
    const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const statuses = ((res.body as Bundle).entry ?? []).map((e) => e.response?.status);
    assert.deepEqual(statuses, ['201 Created', '201 Created']);
  });
});
