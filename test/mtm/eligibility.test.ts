import assert from 'node:assert/strict';
import type { Bundle, EpisodeOfCare, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { testConfig } from '../../src/config';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { createAll, DRUGS, medicationDispense, medicationRequest, medicationStatement, pharmacyClaim, snomedCondition, usCorePatient } from './ehr-fixtures';

const YEAR = new Date().getUTCFullYear();
const TODAY = new Date().toISOString().slice(0, 10);
const EIGHT = [DRUGS.atorvastatin, DRUGS.lisinopril, DRUGS.metformin, DRUGS.amlodipine, DRUGS.furosemide, DRUGS.levothyroxine, DRUGS.acetaminophen, DRUGS.sertraline];

const param = (p: Parameters | ParametersParameter, name: string): ParametersParameter[] =>
  (('resourceType' in p ? p.parameter : (p as ParametersParameter).part) ?? []).filter((x) => x.name === name);
function criterion(p: Parameters | ParametersParameter, code: string): ParametersParameter {
  const found = param(p, 'criterion').find((c) => param(c, 'code')[0]?.valueCode === code);
  assert.ok(found, `criterion ${code}`);
  return found;
}
const met = (c: ParametersParameter) => param(c, 'met')[0]?.valueBoolean;
const evidence = (c: ParametersParameter) => param(c, 'evidence').map((e) => e.valueReference?.reference);

async function qualifyingPatient(t: TestServer, options: { claims?: boolean; diseases?: number } = {}): Promise<string> {
  const patient = await usCorePatient(t, 72);
  const conditions = [
    snomedCondition(patient.id, '44054006', 'Type 2 diabetes mellitus'),
    snomedCondition(patient.id, '59621000', 'Essential hypertension'),
    snomedCondition(patient.id, '84114007', 'Heart failure'),
  ].slice(0, options.diseases ?? 3);
  await createAll(t, [
    ...conditions,
    snomedCondition(patient.id, '195967001', 'Asthma', false), // resolved: does not count
    ...EIGHT.map((d) => medicationRequest(patient.id, d)),
    ...(options.claims === false ? [] : [pharmacyClaim(patient.id, `${YEAR}-01-20`, 900), pharmacyClaim(patient.id, `${YEAR}-02-20`, 800.5), pharmacyClaim(patient.id, `${YEAR - 1}-12-20`, 5000)]),
  ]);
  return patient.id;
}

describe('$mtm-eligibility: CMS Part D targeting criteria', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const check = (id: string, query = '') => t.api().get(`/fhir/Patient/${id}/$mtm-eligibility${query}`);
  const post = (id: string, parameter: ParametersParameter[]) =>
    t.api().post(`/fhir/Patient/${id}/$mtm-eligibility`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter }));

  it('finds an EHR patient eligible, with each criterion, its threshold and its evidence', async () => {
    const id = await qualifyingPatient(t);
    const res = await check(id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as Parameters;
    assert.equal(param(body, 'determination')[0].valueCode, 'eligible');
    assert.equal(param(body, 'eligible')[0].valueBoolean, true);
    const diseases = criterion(body, 'core-chronic-diseases');
    assert.equal(param(diseases, 'value')[0].valueInteger, 3);
    assert.equal(param(diseases, 'threshold')[0].valueInteger, 3);
    assert.equal(evidence(diseases).length, 3, 'the three active conditions, not the resolved asthma');
    assert.ok(evidence(diseases).every((r) => r?.startsWith('Condition/')));
    const drugs = criterion(body, 'part-d-drugs');
    assert.equal(param(drugs, 'value')[0].valueInteger, 8);
    assert.equal(evidence(drugs).length, 8);
    const cost = criterion(body, 'annual-drug-cost');
    assert.equal(param(cost, 'value')[0].valueDecimal, 1700.5, "only this year's claims count");
    assert.equal(param(cost, 'threshold')[0].valueDecimal, 1623);
    assert.equal(met(cost), true);
  });

  it('says which data is missing instead of guessing: no claims means the cost criterion is unknown', async () => {
    const id = await qualifyingPatient(t, { claims: false });
    const body = (await check(id)).body as Parameters;
    assert.equal(param(body, 'determination')[0].valueCode, 'undetermined');
    assert.equal(param(body, 'eligible').length, 0, 'no yes/no when undetermined');
    const cost = criterion(body, 'annual-drug-cost');
    assert.equal(met(cost), undefined);
    assert.match(param(cost, 'missing')[0].valueString as string, /No claims data/);
  });

  it('is not eligible when a criterion is known to be unmet and the patient is not at risk under a drug management program', async () => {
    const id = await qualifyingPatient(t, { diseases: 2 });
    const body = (await check(id, '?drug-management-program-at-risk=false')).body as Parameters;
    assert.equal(param(body, 'determination')[0].valueCode, 'not-eligible');
    assert.equal(met(criterion(body, 'core-chronic-diseases')), false);
  });

  it('makes a patient at risk under a drug management program eligible whatever the other criteria', async () => {
    const patient = await usCorePatient(t, 50);
    const body = (await check(patient.id, '?drug-management-program-at-risk=true')).body as Parameters;
    assert.equal(param(body, 'determination')[0].valueCode, 'eligible');
  });

  it("takes the year's thresholds from configuration", async () => {
    const t2 = await startTestServer({ mtm: { ...testConfig().mtm, minChronicDiseases: 2 } });
    try {
      const id = await qualifyingPatient(t2, { diseases: 2 });
      const body = (await t2.api().get(`/fhir/Patient/${id}/$mtm-eligibility`)).body as Parameters;
      assert.equal(param(criterion(body, 'core-chronic-diseases'), 'threshold')[0].valueInteger, 2);
      assert.equal(param(body, 'determination')[0].valueCode, 'eligible');
    } finally {
      await t2.close();
    }
  });

  it('counts a medicine known from a statement, a request and a dispense once', async () => {
    const patient = await usCorePatient(t, 70);
    await createAll(t, [
      medicationStatement(patient.id, DRUGS.lisinopril),
      medicationRequest(patient.id, { display: 'Lisinopril 10 mg tablet' }), // an EHR that sends names only
      medicationDispense(patient.id, DRUGS.lisinopril, 10),
      medicationDispense(patient.id, DRUGS.metformin, 200), // ran out long ago: not active
      medicationRequest(patient.id, DRUGS.amlodipine, 'stopped'),
    ]);
    const drugs = criterion((await check(patient.id)).body as Parameters, 'part-d-drugs');
    assert.equal(param(drugs, 'value')[0].valueInteger, 1);
    assert.equal(evidence(drugs).length, 3, 'all three records are evidence of the one medicine');
  });

  it('enrols an eligible patient once (EpisodeOfCare, our profile) and opts them out with the CMS reason', async () => {
    const id = await qualifyingPatient(t);
    const first = await post(id, [{ name: 'enroll', valueBoolean: true }, { name: 'date', valueDate: TODAY }]);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const ref = param(first.body as Parameters, 'enrolment')[0].valueReference?.reference as string;
    const episode = (await t.api().get(`/fhir/${ref}`)).body as EpisodeOfCare;
    assert.equal(episode.status, 'active');
    assert.equal(episode.period?.start, TODAY);
    assert.ok(episode.meta?.profile?.includes('http://mtm-fhir.org/fhir/StructureDefinition/mtm-program-enrolment'));
    const again = await post(id, [{ name: 'enroll', valueBoolean: true }]);
    assert.equal(param(again.body as Parameters, 'enrolment')[0].valueReference?.reference, ref, 'enrolling twice keeps one episode');

    const bad = await t.api().post(`/fhir/Patient/${id}/$mtm-opt-out`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueCode: '07' }] }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.resourceType, 'OperationOutcome');
    const out = await t.api().post(`/fhir/Patient/${id}/$mtm-opt-out`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueCode: '03' }, { name: 'date', valueDate: TODAY }] }));
    assert.equal(out.status, 200, JSON.stringify(out.body));
    const ended = (await t.api().get(`/fhir/${ref}`)).body as EpisodeOfCare;
    assert.equal(ended.status, 'finished');
    assert.equal(ended.period?.end, TODAY);
    assert.equal(ended.extension?.[0].valueCoding?.code, '03');
    const none = await t.api().post(`/fhir/Patient/${id}/$mtm-opt-out`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueCode: '03' }] }));
    assert.equal(none.status, 404, 'nothing left to opt out of');
  });

  it('does not enrol a patient who is not eligible, and refuses to enrol through GET', async () => {
    const id = await qualifyingPatient(t, { claims: false });
    const res = await post(id, [{ name: 'enroll', valueBoolean: true }]);
    assert.equal(param(res.body as Parameters, 'enrolment').length, 0);
    assert.equal((await check(id, '?enroll=true')).status, 400);
  });

  it('answers 404 with an OperationOutcome for an unknown patient', async () => {
    const res = await check('no-such-patient');
    assert.equal(res.status, 404);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('assesses many patients at once, and asynchronously with Prefer: respond-async', async () => {
    const a = await qualifyingPatient(t);
    const b = await qualifyingPatient(t, { claims: false });
    const body = [{ name: 'patient', valueReference: { reference: `Patient/${a}` } }, { name: 'patient', valueReference: { reference: `Patient/${b}` } }];
    const sync = await t.api().post('/fhir/$mtm-eligibility').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Parameters', parameter: body }));
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    assert.equal(param(sync.body as Parameters, 'eligible')[0].valueInteger, 1);
    assert.equal(param(sync.body as Parameters, 'undetermined')[0].valueInteger, 1);

    const kick = await t.api().post('/fhir/$mtm-eligibility').set('Content-Type', FHIR_JSON).set('Prefer', 'respond-async').send(JSON.stringify({ resourceType: 'Parameters', parameter: body }));
    assert.equal(kick.status, 202);
    const status = new URL(kick.headers['content-location']).pathname;
    let poll = await t.api().get(status);
    for (let i = 0; i < 50 && poll.status === 202; i++) {
      await new Promise((r) => setTimeout(r, 20));
      poll = await t.api().get(status);
    }
    assert.equal(poll.status, 200);
    const bundle = poll.body as Bundle;
    assert.equal(bundle.type, 'batch-response');
    const result = bundle.entry?.[0].resource as Parameters;
    assert.equal(param(result, 'result').length, 2);
    assert.equal((await t.api().get('/fhir/$mtm-eligibility-status/not-a-job')).status, 404);
  });

  it('asks for the asynchronous pattern when the population is larger than the synchronous limit', async () => {
    const t2 = await startTestServer({ mtm: { ...testConfig().mtm, eligibilitySyncLimit: 1 } });
    try {
      await usCorePatient(t2, 70);
      await usCorePatient(t2, 71);
      const res = await t2.api().get('/fhir/$mtm-eligibility');
      assert.equal(res.status, 400);
      assert.equal(res.body.issue[0].code, 'too-costly');
    } finally {
      await t2.close();
    }
  });
});
