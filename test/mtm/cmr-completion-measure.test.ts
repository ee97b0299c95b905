import assert from 'node:assert/strict';
import type { List, MeasureReport } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadCmrExample } from './cmr-fixture';
import { buildMtmYear, type MtmYear } from './mtm-year';

const MEASURE = 'Measure/pqa-cmr-completion-rate';
const PERIOD = 'periodStart=2026-01-01&periodEnd=2026-12-31';

function counts(report: MeasureReport): Record<string, number | undefined> {
  return Object.fromEntries((report.group?.[0].population ?? []).map((p) => [p.code?.coding?.[0].code, p.count]));
}

describe('PQA CMR completion rate as a Measure ($evaluate-measure)', () => {
  let t: TestServer;
  let year: MtmYear;
  before(async () => {
    t = await startTestServer();
    const example = await loadCmrExample(t);
    year = await buildMtmYear(t, example.completedCmr.output);
  });
  after(async () => t.close());

  const evaluate = async (query: string) => {
    const res = await t.api().get(`${t.base}/${MEASURE}/$evaluate-measure?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as MeasureReport;
  };

  it('the Measure is served like the other conformance resources', async () => {
    const res = await t.api().get(`${t.base}/Measure?url=http://mtm-fhir.org/fhir/Measure/pqa-cmr-completion-rate`);
    assert.equal(res.body.entry?.length, 1);
  });

  it('summary (the default): adults enrolled in MTM, hospice excluded, at least one CMR in the period', async () => {
    const report = await evaluate(PERIOD);
    assert.equal(report.type, 'summary');
    assert.equal(report.measure, 'http://mtm-fhir.org/fhir/Measure/pqa-cmr-completion-rate');
    assert.deepEqual(report.period, { start: '2026-01-01', end: '2026-12-31' });
    // Ann, Bob, Cy and Eve are adults enrolled in 2026 (Dee is 17); Eve is in hospice; Ann and Cy had a CMR.
    assert.deepEqual(counts(report), { 'initial-population': 4, denominator: 4, 'denominator-exclusion': 1, numerator: 2 });
    assert.equal(report.group?.[0].measureScore?.value, Number((2 / 3).toFixed(6)));
  });

  it('subject-list names the patients of each population', async () => {
    const report = await evaluate(`${PERIOD}&reportType=subject-list`);
    const list = (code: string) => {
      const population = report.group?.[0].population?.find((p) => p.code?.coding?.[0].code === code);
      const contained = (report.contained ?? []).find((r) => `#${r.id}` === population?.subjectResults?.reference) as List;
      return (contained.entry ?? []).map((e) => e.item.reference).sort();
    };
    assert.deepEqual(list('numerator'), [year.ann.patient, year.cy.patient].sort());
    assert.deepEqual(list('denominator-exclusion'), [year.eve.patient]);
    assert.ok(!list('initial-population').includes(year.dee.patient), 'a 17-year-old is not in the population');
  });

  it('individual: one patient\'s membership', async () => {
    const bob = await evaluate(`${PERIOD}&reportType=individual&subject=${year.bob.patient}`);
    assert.equal(bob.subject?.reference, year.bob.patient);
    assert.deepEqual(counts(bob), { 'initial-population': 1, denominator: 1, 'denominator-exclusion': 0, numerator: 0 });
    const ann = await evaluate(`${PERIOD}&reportType=individual&subject=${year.ann.patient}`);
    assert.deepEqual(counts(ann), { 'initial-population': 1, denominator: 1, 'denominator-exclusion': 0, numerator: 1 });
  });

  it('agrees with the Part D report over the same data', async () => {
    const partD = JSON.parse((await t.api().get(`${t.base}/$mtm-part-d-report?year=2026`)).text) as { records: Array<Record<string, { value: unknown }>> };
    const report = await evaluate(PERIOD);
    const excluded = new Set([year.eve.patient]); // hospice is not a Part D data element
    const adults = partD.records.filter((r) => (r.birthDate.value as string) <= '2008-12-31' && !excluded.has(r.beneficiary.value as string));
    const received = adults.filter((r) => r.cmrReceived.value === 'Y').length;
    assert.equal(report.group?.[0].measureScore?.value, Number((received / adults.length).toFixed(6)));
    assert.equal(counts(report).numerator, received);
  });

  it('answers 400 for a bad period or report type, 404 for an unknown Measure', async () => {
    assert.equal((await t.api().get(`${t.base}/${MEASURE}/$evaluate-measure?periodStart=2026-01-01`)).status, 400);
    assert.equal((await t.api().get(`${t.base}/${MEASURE}/$evaluate-measure?${PERIOD}&reportType=population`)).status, 400);
    assert.equal((await t.api().get(`${t.base}/${MEASURE}/$evaluate-measure?${PERIOD}&reportType=individual`)).status, 400);
    assert.equal((await t.api().get(`${t.base}/Measure/nope/$evaluate-measure?${PERIOD}`)).status, 404);
  });
});
