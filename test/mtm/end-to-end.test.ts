/**
 * The MTM cycle end to end on the real HTTP app, from an EHR-shaped record: an eligible patient is found
 * and enrolled; the review finds the expected problem; the CMR runs through its states and completes with
 * its outputs; the summary Task and the follow-ups appear with the right due dates; a recommendation goes
 * to the prescriber, the answer comes back, the DetectedIssue's mitigation follows; the year's report and
 * measure count it all.
 */
import assert from 'node:assert/strict';
import type { Bundle, CarePlan, DetectedIssue, List, MeasureReport, Parameters, ParametersParameter, Practitioner, Task } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { completeCmr } from './cmr-fixture';
import { createAll, DRUGS, medicationRequest, pharmacyClaim, snomedCondition, usCorePatient } from './ehr-fixtures';

const REVIEW = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type';
const PARAM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-parameter';
const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

const param = (p: Parameters | ParametersParameter, name: string): ParametersParameter[] =>
  (('resourceType' in p ? p.parameter : (p as ParametersParameter).part) ?? []).filter((x) => x.name === name);

describe('The MTM cycle end to end', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('finds, enrols, reviews, runs the CMR, schedules the follow-ups, resolves a problem with the prescriber and reports it', async () => {
    const post = (path: string, body: object) => t.api().post(`${t.base}/${path}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));

    // 1. An EHR's record: three core chronic diseases, nine medicines (two that interact), pharmacy claims.
    const patient = await usCorePatient(t, 72, 'Moreno');
    const subject = `Patient/${patient.id}`;
    const medicines = [DRUGS.atorvastatin, DRUGS.lisinopril, DRUGS.metformin, DRUGS.amlodipine, DRUGS.furosemide, DRUGS.levothyroxine, DRUGS.acetaminophen, DRUGS.sertraline, DRUGS.phenelzine];
    await createAll(t, [
      snomedCondition(patient.id, '44054006', 'Type 2 diabetes mellitus'),
      snomedCondition(patient.id, '59621000', 'Essential hypertension'),
      snomedCondition(patient.id, '84114007', 'Heart failure'),
      ...medicines.map((d) => medicationRequest(patient.id, d)),
      pharmacyClaim(patient.id, '2026-01-05', 1400),
      pharmacyClaim(patient.id, '2026-01-06', 900),
    ]);

    // 2. Eligible, and enrolled.
    const eligibility = await post(`Patient/${patient.id}/$mtm-eligibility`, { resourceType: 'Parameters', parameter: [{ name: 'enroll', valueBoolean: true }, { name: 'date', valueDate: '2026-01-10' }] });
    assert.equal(eligibility.status, 200, JSON.stringify(eligibility.body));
    assert.equal(param(eligibility.body, 'eligible')[0].valueBoolean, true);
    const enrolment = param(eligibility.body, 'enrolment')[0].valueReference?.reference as string;
    assert.match(enrolment, /^EpisodeOfCare\//);

    // 3. The automated review finds the SSRI with the MAO inhibitor, and stores it.
    const review = await post(`Patient/${patient.id}/$mtm-review`, { resourceType: 'Parameters', parameter: [{ name: 'persist', valueBoolean: true }] });
    assert.equal(review.status, 200, JSON.stringify(review.body));
    const issues = ((await t.api().get(`${t.base}/DetectedIssue?patient=${subject}`)).body as Bundle).entry?.map((e) => e.resource as DetectedIssue) ?? [];
    const interaction = issues.find((i) => i.code?.coding?.some((c) => c.code === 'DRG') && /ssris-mao-inhibitors/.test(JSON.stringify(i.evidence)));
    assert.ok(interaction, `the interaction is found among ${issues.map((i) => i.code?.coding?.[0].code).join(', ')}`);
    const problem = `DetectedIssue/${interaction.id}`;

    // 4. The CMR: offered, accepted, done by telephone, completed with its Medication Action Plan and Personal Medication List.
    const pharmacist = await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Okafor', suffix: ['PharmD'] }], qualification: [{ code: { text: 'PharmD' } }] });
    const prescriber = await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Brandt', suffix: ['MD'] }] });
    const map = await createResource<CarePlan>(t, {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '736378000' }] }],
      subject: { reference: subject },
      author: { reference: `Practitioner/${pharmacist.id}` },
      supportingInfo: [{ reference: problem }],
    });
    const pml = await createResource<List>(t, {
      resourceType: 'List',
      status: 'current',
      mode: 'snapshot',
      code: { coding: [{ system: V3, code: 'CURMEDLIST' }] },
      subject: { reference: subject },
      source: { reference: `Practitioner/${pharmacist.id}` },
    });
    const offered = await createResource<Task>(t, {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: REVIEW, code: 'cmr' }] },
      for: { reference: subject },
      owner: { reference: `Practitioner/${pharmacist.id}` },
      authoredOn: '2026-01-12',
      input: [
        { type: { coding: [{ system: PARAM, code: 'delivery-method' }] }, valueCodeableConcept: { coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/cms-cmr-delivery-method', code: '02' }] } },
        { type: { coding: [{ system: PARAM, code: 'recipient' }] }, valueReference: { reference: subject } },
      ],
      output: [
        { type: { coding: [{ system: PARAM, code: 'medication-action-plan' }] }, valueReference: { reference: `CarePlan/${map.id}` } },
        { type: { coding: [{ system: PARAM, code: 'personal-medication-list' }] }, valueReference: { reference: `List/${pml.id}` } },
      ],
    });
    const cmr = await completeCmr(t, offered, '2026-02-02T10:00:00-05:00', '2026-02-02T10:50:00-05:00');
    assert.equal(cmr.status, 'completed');

    // 5. The summary is due 14 days later; TMRs each quarter and the next CMR in the last quarter of the year.
    const summary = ((await t.api().get(`${t.base}/Task?part-of=Task/${cmr.id}`)).body as Bundle).entry?.map((e) => e.resource as Task) ?? [];
    assert.deepEqual(summary.map((s) => s.restriction?.period?.end), ['2026-02-16']);
    const followUps = ((await t.api().get(`${t.base}/Task?based-on=Task/${cmr.id}&_sort=due`)).body as Bundle).entry?.map((e) => e.resource as Task) ?? [];
    assert.deepEqual(
      followUps.map((f) => `${f.code?.coding?.[0].code} due ${f.restriction?.period?.end}`),
      ['tmr due 2026-05-02', 'tmr due 2026-08-02', 'tmr due 2026-11-02', 'cmr due 2027-02-02'],
    );
    const worklist = await t.api().get(`${t.base}/Task?owner=Practitioner/${pharmacist.id}&status=requested,accepted&due=lt2026-03-01`);
    assert.deepEqual(((worklist.body as Bundle).entry ?? []).map((e) => e.resource?.id), [summary[0].id], 'the summary is what is due first');

    // 6. A recommendation to the prescriber about the interaction; the prescriber stops the MAO inhibitor.
    const recommendation = await post('CommunicationRequest', {
      resourceType: 'CommunicationRequest',
      status: 'active',
      category: [{ coding: [{ system: INTERVENTION, code: 'prescriber-recommendation' }] }],
      subject: { reference: subject },
      about: [{ reference: problem }],
      recipient: [{ reference: `Practitioner/${prescriber.id}` }],
      requester: { reference: `Practitioner/${pharmacist.id}` },
      authoredOn: '2026-02-02',
      payload: [{ contentString: 'Sertraline with phenelzine risks serotonin syndrome: please consider stopping phenelzine.' }],
    });
    assert.equal(recommendation.status, 201, JSON.stringify(recommendation.body));
    const answer = await post('Communication', {
      resourceType: 'Communication',
      status: 'completed',
      basedOn: [{ reference: `CommunicationRequest/${recommendation.body.id}` }],
      category: [{ coding: [{ system: INTERVENTION, code: 'accepted' }, { system: V3, code: '13', display: 'Stopped Concurrent Therapy' }] }],
      subject: { reference: subject },
      sender: { reference: `Practitioner/${prescriber.id}` },
      received: '2026-02-04',
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const resolved = (await t.api().get(`${t.base}/${problem}`)).body as DetectedIssue;
    assert.deepEqual(resolved.mitigation?.map((m) => [m.action.coding?.[0].code, m.date]), [['13', '2026-02-04']]);

    // 7. The year's report and measure count it.
    const report = JSON.parse((await t.api().get(`${t.base}/$mtm-part-d-report?year=2026`)).text) as { records: Array<Record<string, { value: unknown }> & { issues: string[] }> };
    const record = report.records.find((r) => r.beneficiary.value === subject);
    assert.ok(record);
    assert.deepEqual(
      [record.enrollmentDate.value, record.cmrReceived.value, record.cmrDates.value, record.deliveryMethod.value, record.recommendations.value, record.changes.value],
      ['2026-01-10', 'Y', ['2026-02-02'], '02', 1, 1],
    );
    assert.deepEqual(record.issues, []);
    const measure = (await t.api().get(`${t.base}/Measure/pqa-cmr-completion-rate/$evaluate-measure?periodStart=2026-01-01&periodEnd=2026-12-31&reportType=individual&subject=${subject}`)).body as MeasureReport;
    assert.equal(measure.group?.[0].population?.find((p) => p.code?.coding?.[0].code === 'numerator')?.count, 1);
  });
});
