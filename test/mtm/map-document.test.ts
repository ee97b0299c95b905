import assert from 'node:assert/strict';
import type { Bundle, Composition, OperationOutcome, Reference } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { loadExampleCmr, type LoadedCmr } from './summary-fixture';

const LOINC_PLAN_OF_CARE_NOTE = { system: 'http://loinc.org', code: '80797-4' };
const SNOMED_MEDICATION_MANAGEMENT_PLAN = { system: 'http://snomed.info/sct', code: '736378000' };

function references(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => references(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') found.push(v);
      else references(v, found);
    }
  }
  return found;
}

describe('The Medication Action Plan as a FHIR document (CarePlan/{id}/$document)', () => {
  let t: TestServer;
  let cmr: LoadedCmr;
  before(async () => {
    t = await startTestServer();
    cmr = await loadExampleCmr(t);
  });
  after(async () => t.close());

  const documentOf = async (id: string) => {
    const res = await t.api().get(`${t.base}/CarePlan/${id}/$document`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Bundle;
  };

  it('is a document Bundle whose first entry is a Composition shaped like smp-map-composition', async () => {
    const bundle = await documentOf(cmr.carePlan);
    assert.equal(bundle.type, 'document');
    assert.ok(bundle.identifier?.value && bundle.timestamp, 'a document has an identifier and a timestamp (bdl-9, bdl-10)');
    const composition = bundle.entry?.[0].resource as Composition;
    assert.equal(composition.resourceType, 'Composition');
    assert.equal(composition.status, 'final');
    assert.deepEqual(composition.type.coding?.map((c) => ({ system: c.system, code: c.code })), [LOINC_PLAN_OF_CARE_NOTE]);
    assert.match(composition.subject?.reference ?? '', new RegExp(`/Patient/${cmr.patient}$`));
    assert.deepEqual(composition.attester?.map((a) => a.mode), ['professional']);
    assert.match(composition.attester?.[0].party?.reference ?? '', new RegExp(`/Practitioner/${cmr.practitioner}$`));
    const carePlanSection = composition.section?.find((s) => s.code?.coding?.some((c) => c.code === SNOMED_MEDICATION_MANAGEMENT_PLAN.code && c.system === SNOMED_MEDICATION_MANAGEMENT_PLAN.system));
    assert.ok(carePlanSection, 'section map-care-plan');
    assert.match(carePlanSection.entry?.[0].reference ?? '', new RegExp(`/CarePlan/${cmr.carePlan}$`));
    assert.match(carePlanSection.text?.div ?? '', /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">.*Bleeding risk from warfarin with clopidogrel/);
  });

  it('carries every resource the document references, so an EHR can file it whole', async () => {
    const bundle = await documentOf(cmr.carePlan);
    const fullUrls = new Set(bundle.entry?.map((e) => e.fullUrl));
    const composition = bundle.entry?.[0].resource as Composition;
    for (const reference of references(composition)) assert.ok(fullUrls.has(reference), `${reference} is in the Bundle`);
    const types = bundle.entry?.map((e) => e.resource?.resourceType);
    assert.deepEqual([...new Set(types)].sort(), ['CarePlan', 'Composition', 'DetectedIssue', 'MedicationStatement', 'Patient', 'Practitioner']);
    assert.equal(types?.filter((x) => x === 'DetectedIssue').length, 2);
    assert.equal(types?.filter((x) => x === 'MedicationStatement').length, 3, 'warfarin, clopidogrel and furosemide are implicated');
  });

  it('passes FHIR validation as a Composition', async () => {
    const composition = (await documentOf(cmr.carePlan)).entry?.[0].resource as Composition;
    const res = await t.api().post(`${t.base}/Composition/$validate`).set('Content-Type', FHIR_JSON).send(JSON.stringify(composition));
    const outcome = res.body as OperationOutcome;
    const errors = outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    assert.deepEqual(errors, []);
  });

  it('adds the map-document section pointing at the filed written summary once there is one', async () => {
    const filed = await t.api().post(`${t.base}/Task/${cmr.task}/$cmr-summary?persist=true`).set('Accept', FHIR_JSON);
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    const bundle = await documentOf(cmr.carePlan);
    const composition = bundle.entry?.[0].resource as Composition;
    const documentSection = composition.section?.find((s) => s.code?.coding?.some((c) => c.code === LOINC_PLAN_OF_CARE_NOTE.code));
    const reference = documentSection?.entry?.[0] as Reference;
    assert.match(reference.reference ?? '', new RegExp(`/DocumentReference/${filed.body.id}$`));
    assert.ok(bundle.entry?.some((e) => e.fullUrl === reference.reference && e.resource?.resourceType === 'DocumentReference'));
  });

  it('is 422 for a CarePlan that is not a Medication Action Plan, and 404 for one that does not exist', async () => {
    const other = await t
      .api()
      .post(`${t.base}/CarePlan`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${cmr.patient}` } }));
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const res = await t.api().get(`${t.base}/CarePlan/${other.body.id}/$document`);
    assert.equal(res.status, 422);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal((await t.api().get(`${t.base}/CarePlan/missing/$document`)).status, 404);
  });
});
