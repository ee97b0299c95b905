import assert from 'node:assert/strict';
import type { Observation, OperationOutcome } from '@medplum/fhirtypes';
import { testConfig } from '../../src/config';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

/** A profile this server does not ship (the International Patient Summary's Patient). */
const IPS_PATIENT = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips';

function heartRate(fields: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/heartrate'] },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/p-1' },
    effectiveDateTime: '2026-11-30T10:00:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...fields,
  };
}

describe('Profiles that real data claims', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const post = (resource: object, prefer?: string) => {
    const req = t.api().post(`/fhir/${(resource as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON);
    return (prefer ? req.set('Prefer', prefer) : req).send(JSON.stringify(resource));
  };

  it('an unknown profile (an IPS Patient from abroad) is a warning by default: stored, and the warning shown with Prefer: return=OperationOutcome', async () => {
    const res = await post({ resourceType: 'Patient', meta: { profile: [IPS_PATIENT] }, name: [{ family: 'Doe' }] }, 'return=OperationOutcome');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const warning = (res.body as OperationOutcome).issue.find((i) => i.severity === 'warning');
    assert.equal(warning?.expression?.[0], 'Patient.meta.profile[0]');
    assert.match(warning?.diagnostics ?? '', /not known to this server/);
  });

  it('the resource claiming an unknown profile is still held to the MTM profile that applies', async () => {
    const res = await post({ resourceType: 'MedicationStatement', meta: { profile: ['http://hl7.org/fhir/us/smp/StructureDefinition/smp-medicationstatement'] }, status: 'active', medicationCodeableConcept: { text: 'x' }, subject: { reference: 'Group/1' } });
    assert.equal(res.status, 422);
    assert.ok((res.body as OperationOutcome).issue.some((i) => i.severity === 'error' && i.expression?.[0] === 'MedicationStatement.subject'));
  });

  it('an Observation claiming the R4 heartrate profile and conforming to it is stored', async () => {
    const res = await post(heartRate());
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  it('an Observation claiming the R4 vitalsigns profile is held to it: no effective[x], no category, no subject -> 422 naming each', async () => {
    const { effectiveDateTime: _e, category: _c, subject: _s, ...bare } = heartRate({ meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] } });
    const res = await post(bare);
    assert.equal(res.status, 422);
    const at = (res.body as OperationOutcome).issue.filter((i) => i.severity === 'error').map((i) => i.expression?.[0]);
    for (const expected of ['Observation.effective[x]', 'Observation.category', 'Observation.subject']) assert.ok(at.includes(expected), `${expected} in ${at.join(', ')}`);
  });

  describe('in strict mode (VALIDATION_LENIENT_UNKNOWN_PROFILES=false)', () => {
    let strict: TestServer;
    before(async () => {
      const defaults = testConfig();
      strict = await startTestServer({ validation: { ...defaults.validation, lenientUnknownProfiles: false } });
    });
    after(async () => strict.close());

    it('an unknown profile is refused: 422 at its position', async () => {
      const res = await strict.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', meta: { profile: [IPS_PATIENT] } });
      assert.equal(res.status, 422);
      assert.equal((res.body as OperationOutcome).issue[0].expression?.[0], 'Patient.meta.profile[0]');
    });
  });
});
