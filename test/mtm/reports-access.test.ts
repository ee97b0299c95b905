import assert from 'node:assert/strict';
import type { Group, MeasureReport } from '@medplum/fhirtypes';
import { isFhirError } from '../../src/fhir/outcome';
import { dispatchAudited } from '../../src/interactions/audited-dispatch';
import { contextFor } from '../../src/interactions/guarded-services';
import type { FhirRequest, SecurityContext } from '../../src/interactions/types';
import { security } from '../auth/access-fixture';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { FHIR_JSON } from '../helpers/test-server';
import { loadCmrExample } from './cmr-fixture';
import { buildMtmYear, type MtmYear } from './mtm-year';

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- FHIR JSON or the report's JSON; the tests assert its shape
  body: any;
}

/** A request as a client with this security context makes it, through the real per-request services and audit. */
async function as(t: TestServer, who: SecurityContext, path: string): Promise<Answer> {
  const at = path.indexOf('?');
  const req: FhirRequest = {
    method: 'GET',
    segments: (at < 0 ? path : path.slice(0, at)).split('/').filter(Boolean),
    query: at < 0 ? [] : [...new URLSearchParams(path.slice(at + 1))],
    headers: {},
  };
  try {
    const response = await dispatchAudited(contextFor(t.server.services, `http://localhost${t.base}`, who), req);
    const representation = response.representation?.content;
    return { status: response.status, body: typeof representation === 'string' ? JSON.parse(representation) : response.body };
  } catch (error) {
    if (isFhirError(error)) return { status: error.status, body: error.outcome };
    throw error;
  }
}

describe('MTM lifecycle, interventions and reports under the access policy', () => {
  let t: TestServer;
  let year: MtmYear;
  const PERIOD = 'periodStart=2026-01-01&periodEnd=2026-12-31';
  const groupBound = () => security('plan-a', 'system/*.rs', 'plan-a');
  const demographicsOnly = () => security('demographics', 'system/Patient.rs system/Practitioner.rs');

  before(async () => {
    t = await startTestServer();
    year = await buildMtmYear(t, (await loadCmrExample(t)).completedCmr.output);
    const group: Group = { resourceType: 'Group', id: 'plan-a', type: 'person', actual: true, member: [year.ann, year.bob].map((b) => ({ entity: { reference: b.patient } })) };
    const res = await t.api().put(`${t.base}/Group/plan-a`).set('Content-Type', FHIR_JSON).send(JSON.stringify(group));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(async () => t.close());

  it('a client without the scopes an operation declares gets 403', async () => {
    for (const path of ['$mtm-part-d-report?year=2026', `Measure/pqa-cmr-completion-rate/$evaluate-measure?${PERIOD}`, `${year.ann.patient}/$mtm-interventions?${PERIOD}`]) {
      const answer = await as(t, demographicsOnly(), path);
      assert.equal(answer.status, 403, path);
      assert.equal(answer.body.resourceType, 'OperationOutcome');
    }
  });

  it("the Part D report of a Group-bound client holds its Group's beneficiaries only", async () => {
    const answer = await as(t, groupBound(), '$mtm-part-d-report?year=2026');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const reported = (answer.body.records as Array<{ beneficiary: { value: string } }>).map((r) => r.beneficiary.value).sort();
    assert.deepEqual(reported, [year.ann.patient, year.bob.patient].sort());
  });

  it("the measure of a Group-bound client counts its Group's patients only", async () => {
    const answer = await as(t, groupBound(), `Measure/pqa-cmr-completion-rate/$evaluate-measure?${PERIOD}&reportType=subject-list`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const report = answer.body as MeasureReport;
    const counts = Object.fromEntries((report.group?.[0].population ?? []).map((p) => [p.code?.coding?.[0].code, p.count]));
    assert.deepEqual(counts, { 'initial-population': 2, denominator: 2, 'denominator-exclusion': 0, numerator: 1 });
    const listed = JSON.stringify(report.contained ?? []);
    for (const outsider of [year.cy.patient, year.dee.patient, year.eve.patient]) assert.ok(!listed.includes(outsider), outsider);
  });

  it("a Group-bound client cannot count another patient's interventions (404, as if unknown)", async () => {
    assert.equal((await as(t, groupBound(), `${year.ann.patient}/$mtm-interventions?${PERIOD}`)).status, 200);
    assert.equal((await as(t, groupBound(), `${year.cy.patient}/$mtm-interventions?${PERIOD}`)).status, 404);
  });

  it("a Group-bound client does not see an outsider's follow-up Tasks on the worklist", async () => {
    const answer = await as(t, groupBound(), `Task?owner=${year.pharmacist}&status=requested,accepted&due=lt2028-01-01&_count=100`);
    assert.equal(answer.status, 200);
    const patients = new Set((answer.body.entry ?? []).map((e: { resource: { for?: { reference?: string } } }) => e.resource.for?.reference));
    assert.ok(patients.has(year.ann.patient), 'Ann\'s follow-ups are on the worklist');
    assert.ok(!patients.has(year.dee.patient), 'Dee is outside the Group');
  });
});
