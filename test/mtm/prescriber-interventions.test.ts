import assert from 'node:assert/strict';
import type { Bundle, Communication, CommunicationRequest, DetectedIssue, OperationOutcome, Parameters, Practitioner } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { type CmrExample, loadCmrExample, readResource } from './cmr-fixture';

const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe('Prescriber interventions', () => {
  let t: TestServer;
  let example: CmrExample;
  let prescriber: string;
  let issues: string[];
  before(async () => {
    t = await startTestServer();
    example = await loadCmrExample(t);
    issues = example.all.filter((r) => r.startsWith('DetectedIssue/'));
    const cardiologist = await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Brandt', given: ['Elena'], suffix: ['MD'] }] });
    prescriber = `Practitioner/${cardiologist.id}`;
  });
  after(async () => t.close());

  const recommendation = (issue: string, authoredOn = '2026-12-02', text = 'Consider stopping clopidogrel: the dual therapy period after the 2023 stent is over.'): CommunicationRequest => ({
    resourceType: 'CommunicationRequest',
    status: 'active',
    category: [{ coding: [{ system: INTERVENTION, code: 'prescriber-recommendation' }] }],
    subject: { reference: example.refs.Patient },
    about: [{ reference: issue }],
    recipient: [{ reference: prescriber }],
    requester: { reference: example.refs.Practitioner },
    authoredOn,
    payload: [{ contentString: text }],
  });

  const answer = (request: string, code: string, change?: string, received = '2026-12-04T09:30:00-06:00'): Communication => ({
    resourceType: 'Communication',
    status: 'completed',
    basedOn: [{ reference: request }],
    category: [{ coding: [{ system: INTERVENTION, code }, ...(change ? [{ system: V3, code: change }] : [])] }],
    subject: { reference: example.refs.Patient },
    sender: { reference: prescriber },
    received,
  });

  const post = (resource: object) => t.api().post(`${t.base}/${(resource as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));
  const mitigations = async (issue: string) => ((await readResource<DetectedIssue>(t, issue)).mitigation ?? []).map((m) => [m.action.coding?.[0].code, m.date]);

  it('stores a recommendation under our profile, and refuses one that is not about a problem (422 naming the element)', async () => {
    const res = await post(recommendation(issues[0]));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok((res.body as CommunicationRequest).meta?.profile?.includes('http://mtm-fhir.org/fhir/StructureDefinition/mtm-prescriber-recommendation'));
    const { about: _about, ...withoutAbout } = recommendation(issues[0]);
    const bad = await post(withoutAbout);
    assert.equal(bad.status, 422);
    assert.ok((bad.body as OperationOutcome).issue.some((i) => i.expression?.some((e) => e.includes('about'))), JSON.stringify(bad.body));
  });

  it('an accepted answer adds the change made to the DetectedIssue\'s mitigation and completes the recommendation', async () => {
    const issue = issues[0];
    const before = await mitigations(issue);
    const request = (await post(recommendation(issue))).body as CommunicationRequest;
    const res = await post(answer(`CommunicationRequest/${request.id}`, 'accepted', '13'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(await mitigations(issue), [...before, ['13', '2026-12-04T09:30:00-06:00']]);
    const stored = await readResource<DetectedIssue>(t, issue);
    assert.equal(stored.mitigation?.at(-1)?.author?.reference, example.refs.Practitioner, 'the pharmacist who recommended it');
    assert.equal((await readResource<CommunicationRequest>(t, `CommunicationRequest/${request.id}`)).status, 'completed');
  });

  it('a declined answer records "prescriber declined change" (6), no response "consulted prescriber" (5)', async () => {
    const issue = issues[1];
    const declined = (await post(recommendation(issue))).body as CommunicationRequest;
    const unanswered = (await post(recommendation(issue))).body as CommunicationRequest;
    const before = await mitigations(issue);
    assert.equal((await post(answer(`CommunicationRequest/${declined.id}`, 'declined', undefined, '2026-12-05'))).status, 201);
    assert.equal((await post(answer(`CommunicationRequest/${unanswered.id}`, 'no-response', undefined, '2026-12-16'))).status, 201);
    assert.deepEqual(await mitigations(issue), [...before, ['6', '2026-12-05'], ['5', '2026-12-16']]);
  });

  it('an answer and its mitigation are one transaction: when the mitigation cannot be recorded, the answer is not stored either', async () => {
    const issue = issues[0];
    const request = (await post(recommendation(issue))).body as CommunicationRequest;
    const before = await mitigations(issue);
    const count = async () => (await t.api().get(`${t.base}/Communication?_summary=count`)).body.total as number;
    const answers = await count();
    // DRG is a v3 ActCode, but not a detected-issue management code: the DetectedIssue would be invalid.
    const res = await post(answer(`CommunicationRequest/${request.id}`, 'accepted', 'DRG'));
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /DetectedIssue the server derives from this write would be invalid/);
    assert.equal(await count(), answers);
    assert.deepEqual(await mitigations(issue), before);
    assert.equal((await readResource<CommunicationRequest>(t, `CommunicationRequest/${request.id}`)).status, 'active');
  });

  it('refuses an accepted answer that does not say what changed, and an answer to a recommendation we do not hold', async () => {
    const request = (await post(recommendation(issues[0]))).body as CommunicationRequest;
    const vague = await post(answer(`CommunicationRequest/${request.id}`, 'accepted'));
    assert.equal(vague.status, 422);
    assert.match(JSON.stringify(vague.body), /mtm-resp-2/);
    const orphan = await post(answer('CommunicationRequest/not-here', 'declined'));
    assert.equal(orphan.status, 422);
    assert.match(JSON.stringify(orphan.body), /does not hold/);
  });

  it("refuses an answer that would change another patient's problem", async () => {
    const stranger = `Patient/${(await createResource(t, { resourceType: 'Patient', name: [{ family: 'Stranger' }] })).id}`;
    const before = await mitigations(issues[0]);
    const request = (await post({ ...recommendation(issues[0]), subject: { reference: stranger } })).body as CommunicationRequest;
    const res = await post({ ...answer(`CommunicationRequest/${request.id}`, 'declined'), subject: { reference: stranger } });
    assert.equal(res.status, 422);
    assert.match(JSON.stringify(res.body), /the recommendation about/);
    assert.deepEqual(await mitigations(issues[0]), before);
  });

  it('records a recommendation and its answer sent together in one transaction Bundle', async () => {
    const issue = issues[1];
    const before = await mitigations(issue);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:7d1f0a52-3a4e-4c55-9a0e-5b1c1f3f0c11', resource: recommendation(issue, '2026-12-03'), request: { method: 'POST', url: 'CommunicationRequest' } },
        { resource: answer('urn:uuid:7d1f0a52-3a4e-4c55-9a0e-5b1c1f3f0c11', 'accepted', '12', '2026-12-03'), request: { method: 'POST', url: 'Communication' } },
      ],
    };
    const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await mitigations(issue), [...before, ['12', '2026-12-03']]);
  });

  describe('counts per patient and period ($mtm-interventions)', () => {
    let patient: string;
    before(async () => {
      // A patient of its own, so the counts are exactly what this test made.
      const other = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Counted' }] });
      patient = `Patient/${other.id}`;
      const issue = await createResource<DetectedIssue>(t, {
        resourceType: 'DetectedIssue',
        status: 'final',
        code: { coding: [{ system: V3, code: 'DUPTHPY' }] },
        severity: 'moderate',
        patient: { reference: patient },
      });
      const make = async (authoredOn: string) => {
        const r = (await post({ ...recommendation(`DetectedIssue/${issue.id}`, authoredOn), subject: { reference: patient } })).body as CommunicationRequest;
        return `CommunicationRequest/${r.id}`;
      };
      const forPatient = (c: Communication): Communication => ({ ...c, subject: { reference: patient } });
      const accepted = await make('2026-03-10');
      await post(forPatient(answer(accepted, 'no-response', undefined, '2026-03-25')));
      await post(forPatient(answer(accepted, 'accepted', '13', '2026-04-02')));
      await post(forPatient(answer(await make('2026-06-01'), 'declined', undefined, '2026-06-03')));
      await make('2026-11-20');
      await post(forPatient(answer(await make('2025-12-31'), 'accepted', '11', '2026-01-05')));
    });

    const counts = async (start: string, end: string) => {
      const res = await t.api().get(`${t.base}/${patient}/$mtm-interventions?periodStart=${start}&periodEnd=${end}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const p = res.body as Parameters;
      const value = (name: string) => p.parameter?.find((x) => x.name === name)?.valueInteger;
      return { recommendations: value('recommendations'), changes: value('changes'), answers: (p.parameter ?? []).filter((x) => x.name === 'intervention').map((i) => i.part?.find((x) => x.name === 'answer')?.valueCode ?? null) };
    };

    it('counts the recommendations made in the period and those that resulted in a change (latest answer accepted)', async () => {
      const year = await counts('2026-01-01', '2026-12-31');
      assert.equal(year.recommendations, 3);
      assert.equal(year.changes, 1);
      assert.deepEqual([...year.answers].sort(), ['accepted', 'declined', null].sort());
    });

    it('counts a recommendation in the period it was made, whenever the answer came', async () => {
      assert.deepEqual(await counts('2025-01-01', '2025-12-31'), { recommendations: 1, changes: 1, answers: ['accepted'] });
      assert.deepEqual(await counts('2026-07-01', '2026-12-31'), { recommendations: 1, changes: 0, answers: [null] });
    });

    it('answers 400 for a missing or malformed period, and 404 for an unknown patient', async () => {
      assert.equal((await t.api().get(`${t.base}/${patient}/$mtm-interventions?periodStart=2026-01-01`)).status, 400);
      assert.equal((await t.api().get(`${t.base}/${patient}/$mtm-interventions?periodStart=last-year&periodEnd=2026-12-31`)).status, 400);
      assert.equal((await t.api().get(`${t.base}/Patient/nobody/$mtm-interventions?periodStart=2026-01-01&periodEnd=2026-12-31`)).status, 404);
    });
  });
});
