import assert from 'node:assert/strict';
import type { DetectedIssue, OperationOutcome, Parameters, ValueSet } from '@medplum/fhirtypes';
import { REVIEW_RULES } from '../../src/mtm/review/rules';
import { FHIR_JSON, createResource, startTestServer, type TestServer } from '../helpers/test-server';
import { ADHERENCE_EXTENSION, ADHERENCE_SYSTEM } from '../../src/mtm/review/checks';
import { createAll, DRUGS, type Drug, medicationDispense, medicationRequest, medicationStatement, usCorePatient } from './ehr-fixtures';

const RULE_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-rule';
const issuesOf = (p: Parameters) => (p.parameter ?? []).filter((x) => x.name === 'issue').map((x) => x.resource as DetectedIssue);
const ruleOf = (i: DetectedIssue) => i.evidence?.[0].code?.[0].coding?.find((c) => c.system === RULE_SYSTEM)?.code;

describe('$mtm-review: automated medication review', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  async function review(patientId: string, persist = false): Promise<Parameters> {
    const res = await t
      .api()
      .post(`/fhir/Patient/${patientId}/$mtm-review`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: persist ? [{ name: 'persist', valueBoolean: true }] : [] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Parameters;
  }
  async function patientOn(age: number | undefined, drugs: Drug[]): Promise<string> {
    const patient = await usCorePatient(t, age);
    await createAll(t, drugs.map((d) => medicationRequest(patient.id, d)));
    return patient.id;
  }
  const findings = async (id: string, rule: string) => issuesOf(await review(id)).filter((i) => ruleOf(i) === rule);

  it('flags the same ingredient in two medicines (DUPTHPY)', async () => {
    const [issue] = await findings(await patientOn(50, [DRUGS.acetaminophen, DRUGS.oxycodoneApap]), 'duplicate-ingredient');
    assert.equal(issue?.code?.coding?.[0].code, 'DUPTHPY');
    assert.match(issue.detail as string, /acetaminophen/);
    assert.equal(issue.implicated?.length, 2);
  });

  it('flags two statins as a same-class duplication (DUPTHPCLS), citing the class ValueSet', async () => {
    const [issue] = await findings(await patientOn(50, [DRUGS.atorvastatin, DRUGS.simvastatin]), 'duplicate-class-statins');
    assert.equal(issue?.code?.coding?.[0].code, 'DUPTHPCLS');
    assert.deepEqual(issue.evidence?.[0].detail?.map((d) => d.reference), ['ValueSet/mtm-class-statins']);
  });

  it('flags an ONC high-priority interaction (SSRI with an MAO inhibitor), by RxNorm code', async () => {
    const [issue] = await findings(await patientOn(50, [DRUGS.sertraline, DRUGS.phenelzine]), 'ddi-ssris-mao-inhibitors');
    assert.equal(issue?.code?.coding?.[0].code, 'DRG');
    assert.equal(issue.severity, 'high');
    assert.match(issue.evidence?.[0].code?.[0].text as string, /Phansalkar/);
    assert.match(issue.evidence?.[0].code?.[0].text as string, /rxnorm-code/);
  });

  it('recognises the same interaction from names only, as many senders send them', async () => {
    const id = await patientOn(50, [{ display: 'Sertraline HCl 50mg tab' }, { display: 'Nardil (phenelzine sulfate) 15 mg' }]);
    const [issue] = await findings(id, 'ddi-ssris-mao-inhibitors');
    assert.ok(issue, 'found by ingredient name');
    assert.match(issue.evidence?.[0].code?.[0].text as string, /ingredient-name/);
  });

  it('flags an opioid with a benzodiazepine', async () => {
    const [issue] = await findings(await patientOn(50, [DRUGS.oxycodoneApap, DRUGS.diazepam]), 'opioid-benzodiazepine');
    assert.equal(issue?.code?.coding?.[0].code, 'DRG');
  });

  it('flags two anticholinergics at 65 and over (Poly-ACH), but not at 50', async () => {
    const drugs = [DRUGS.amitriptyline, DRUGS.hydroxyzine];
    const [issue] = await findings(await patientOn(70, drugs), 'poly-ach');
    assert.equal(issue?.code?.coding?.[0].code, 'GEALRT');
    assert.equal(issue.implicated?.length, 2);
    assert.equal((await findings(await patientOn(50, drugs), 'poly-ach')).length, 0);
  });

  it('flags three CNS-active medicines at 65 and over (Poly-CNS), but not two', async () => {
    assert.equal((await findings(await patientOn(75, [DRUGS.oxycodoneApap, DRUGS.diazepam, DRUGS.sertraline]), 'poly-cns')).length, 1);
    assert.equal((await findings(await patientOn(75, [DRUGS.oxycodoneApap, DRUGS.sertraline]), 'poly-cns')).length, 0);
  });

  it('flags a potentially harmful medicine in an older adult, and says when age is unknown', async () => {
    const [issue] = await findings(await patientOn(80, [DRUGS.glyburide]), 'high-risk-older-adults');
    assert.match(issue?.detail as string, /glyburide/);
    const unknownAge = await review(await patientOn(undefined, [DRUGS.glyburide]));
    assert.equal(issuesOf(unknownAge).length, 0);
    const notes = ((unknownAge.parameter ?? []).find((p) => p.name === 'outcome')?.resource as OperationOutcome).issue;
    assert.ok(notes.some((n) => /high-risk-older-adults did not run: the patient has no birthDate/.test(n.diagnostics ?? '')));
  });

  it('flags a medicine recorded as not taken as directed (COMPLY)', async () => {
    const patient = await usCorePatient(t, 60);
    const statement = await createResource(t, medicationStatement(patient.id, DRUGS.lisinopril, {
      extension: [{ url: ADHERENCE_EXTENSION, extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: ADHERENCE_SYSTEM, code: 'taking-not-as-directed' }] } }] }],
    }));
    const [issue] = await findings(patient.id, 'adherence');
    assert.equal(issue?.code?.coding?.[0].code, 'COMPLY');
    assert.deepEqual(issue.implicated?.map((r) => r.reference), [`MedicationStatement/${statement.id}`]);
  });

  it('counts a medicine known from a statement, a request and a dispense once: no duplicate finding', async () => {
    const patient = await usCorePatient(t, 60);
    await createAll(t, [medicationStatement(patient.id, DRUGS.atorvastatin), medicationRequest(patient.id, DRUGS.atorvastatin), medicationDispense(patient.id, DRUGS.atorvastatin, 5)]);
    const body = await review(patient.id);
    assert.equal(issuesOf(body).length, 0);
    assert.match(((body.parameter ?? []).find((p) => p.name === 'outcome')?.resource as OperationOutcome).issue[0].diagnostics as string, /^1 active medicines/);
  });

  it('stores the drafts with persist=true, and a second run stores nothing new', async () => {
    const id = await patientOn(70, [DRUGS.oxycodoneApap, DRUGS.diazepam, DRUGS.sertraline, DRUGS.phenelzine]);
    const drafts = issuesOf(await review(id));
    assert.ok(drafts.length >= 3);
    assert.ok(drafts.every((d) => d.status === 'preliminary' && !d.id));
    const first = issuesOf(await review(id, true));
    assert.equal(first.length, drafts.length);
    assert.ok(first.every((i) => i.id && i.meta?.profile?.includes('http://mtm-fhir.org/fhir/StructureDefinition/mtm-detected-issue')));
    const second = issuesOf(await review(id, true));
    assert.deepEqual(second.map((i) => i.id).sort(), first.map((i) => i.id).sort());
    const stored = await t.api().get(`/fhir/DetectedIssue?patient=Patient/${id}&_count=100`);
    assert.equal(stored.body.total ?? stored.body.entry?.length, first.length);
  });

  it('uses a new ValueSet version an operator posts, with no code change', async () => {
    const id = await patientOn(50, [DRUGS.atorvastatin, DRUGS.simvastatin]);
    assert.equal((await findings(id, 'duplicate-class-statins')).length, 1);
    const current = (await t.api().get('/fhir/ValueSet/mtm-class-statins')).body as ValueSet;
    const replacement: ValueSet = {
      resourceType: 'ValueSet',
      url: current.url,
      version: '2027.1',
      name: current.name,
      status: 'active',
      date: '2027-01-01',
      compose: { include: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', concept: [{ code: DRUGS.atorvastatin.code, display: DRUGS.atorvastatin.display }] }] },
    };
    await createResource(t, replacement);
    assert.equal((await findings(id, 'duplicate-class-statins')).length, 0, 'simvastatin is no longer in the class');
  });

  it('answers 404 for an unknown patient and 405 for GET', async () => {
    const res = await t.api().post('/fhir/Patient/nobody/$mtm-review').set('Content-Type', FHIR_JSON).send('{"resourceType":"Parameters"}');
    assert.equal(res.status, 404);
    assert.equal((await t.api().get('/fhir/Patient/nobody/$mtm-review')).status, 405);
  });

  it('publishes every rule in CodeSystem mtm-review-rule', async () => {
    const cs = (await t.api().get('/fhir/CodeSystem/mtm-review-rule')).body as { concept: Array<{ code: string }> };
    assert.deepEqual(cs.concept.map((c) => c.code), REVIEW_RULES.map((r) => r.id));
  });
});
