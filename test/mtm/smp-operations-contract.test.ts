import assert from 'node:assert/strict';
import type { Bundle, List, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const MRN = 'http://hospital.example.org/mrn';
const LOINC = 'http://loinc.org';

describe('$smp-query and $smp-submit keep the contract of their OperationDefinitions', () => {
  let t: TestServer;
  let patientId: string;
  let dischargeListId: string;
  before(async () => {
    t = await startTestServer();
    patientId = (await createResource(t, { resourceType: 'Patient', identifier: [{ system: MRN, value: 'Q-1' }] })).id;
    const practitioner = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Discharging' }] });
    const statement = await createResource(t, {
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: { text: 'Metformin 500 mg tablet' },
      subject: { reference: `Patient/${patientId}` },
    });
    const list = await createResource<List>(t, {
      resourceType: 'List',
      status: 'current',
      mode: 'snapshot',
      code: { coding: [{ system: LOINC, code: '10183-2', display: 'Hospital discharge medications Narrative' }] },
      subject: { reference: `Patient/${patientId}` },
      source: { reference: `Practitioner/${practitioner.id}` },
      entry: [{ item: { reference: `MedicationStatement/${statement.id}` } }],
    });
    dischargeListId = list.id;
  });
  after(async () => t.close());

  const query = (parameters: Parameters['parameter']) =>
    t.api().post('/fhir/$smp-query').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters', parameter: parameters });

  it('without list-type returns the most recent current list of any medication-list type: here a discharge list', async () => {
    const res = await query([{ name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: MRN, value: 'Q-1' }] } }]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = (res.body as Parameters).parameter?.find((p) => p.name === 'smp-medication-data')?.resource as Bundle;
    assert.equal(data.entry?.[0].resource?.id, dischargeListId);
  });

  it('with a list-type the patient has no list of, answers 404 naming the type as the reason', async () => {
    const res = await query([
      { name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: MRN, value: 'Q-1' }] } },
      { name: 'list-type', valueCodeableConcept: { coding: [{ system: LOINC, code: '10160-0' }] } },
    ]);
    assert.equal(res.status, 404);
    assert.match((res.body as OperationOutcome).issue?.[0].diagnostics ?? '', /of the requested type/);
  });

  it('$smp-submit says what each kind of entry did: a GET entry is a read, not "stored"', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:5f0a4a6e-6a43-4a57-9d53-2b2f3f1e9c01',
          request: { method: 'POST', url: 'MedicationStatement' },
          resource: {
            resourceType: 'MedicationStatement',
            status: 'active',
            medicationCodeableConcept: { text: 'Vitamin D3 1000 IU' },
            subject: { reference: `Patient/${patientId}` },
          },
        },
        { request: { method: 'GET', url: `Patient/${patientId}` } },
      ],
    };
    const res = await t.api().post('/fhir/$smp-submit').set('Content-Type', FHIR_JSON).send({ resourceType: 'Parameters', parameter: [{ name: 'smp-medication-data', resource: bundle }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const outcome = (res.body as Parameters).parameter?.find((p) => p.name === 'outcome')?.resource as OperationOutcome;
    assert.equal(outcome.issue?.[0].diagnostics, 'Processed 2 entries of the submitted medication data: 1 created, 1 read (nothing stored)');
  });
});
