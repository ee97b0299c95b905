import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadCmrExample } from './cmr-fixture';
import { buildMtmYear, type MtmYear } from './mtm-year';

interface Value {
  value: unknown;
  from: string[];
}
type ReportRecord = Record<string, Value> & { issues: string[] };
interface Report {
  year: number;
  beneficiaries: number;
  beneficiariesWithIssues: number;
  records: ReportRecord[];
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

describe('CMS Part D MTM beneficiary-level report ($mtm-part-d-report)', () => {
  let t: TestServer;
  let year: MtmYear;
  let report: Report;
  const record = (patient: string) => report.records.find((r) => r.beneficiary.value === patient) as ReportRecord;

  before(async () => {
    t = await startTestServer();
    const example = await loadCmrExample(t);
    year = await buildMtmYear(t, example.completedCmr.output);
    const res = await t.api().get(`${t.base}/$mtm-part-d-report?year=2026`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^application\/json/);
    report = JSON.parse(res.text) as Report;
  });
  after(async () => t.close());

  it('has one record per beneficiary enrolled at any time in the year, and no one else', () => {
    const expected = [year.ann, year.bob, year.cy, year.dee, year.eve].map((b) => b.patient).sort();
    assert.deepEqual(report.records.map((r) => r.beneficiary.value).sort(), expected);
    assert.equal(report.beneficiaries, 5);
  });

  it('reports a completed CMR: dates, delivery method, provider, recipient, summary sent, TMRs, recommendations and changes', () => {
    const ann = record(year.ann.patient);
    const values = Object.fromEntries(Object.entries(ann).filter(([k]) => k !== 'issues').map(([k, v]) => [k, (v as Value).value]));
    assert.deepEqual(values, {
      beneficiary: year.ann.patient,
      mbi: '1EG4TE5MK73',
      name: 'Test Ann',
      birthDate: '1950-02-03',
      metTargetingCriteria: 'Y',
      targetingDate: '2026-01-15',
      enrollmentDate: '2026-01-15',
      optOutDate: null,
      optOutReason: null,
      cmrOffered: 'Y',
      cmrOfferDate: '2026-03-02',
      cmrReceived: 'Y',
      cmrDates: ['2026-03-02'],
      deliveryMethod: '02',
      providerType: 'PharmD, licensed pharmacist',
      recipient: 'beneficiary',
      summarySentDate: '2026-03-10',
      tmrCount: 1,
      recommendations: 2,
      changes: 1,
    });
    assert.deepEqual(ann.issues, []);
  });

  it('says for each value which resources it came from', () => {
    const ann = record(year.ann.patient);
    assert.deepEqual(ann.deliveryMethod.from, [year.ann.cmr]);
    assert.deepEqual(ann.summarySentDate.from, [year.ann.summary]);
    assert.deepEqual(ann.tmrCount.from, [year.ann.tmr]);
    assert.deepEqual(ann.providerType.from, [year.ann.cmr, year.pharmacist]);
    assert.equal(ann.recommendations.from.length, 2);
    assert.ok(ann.recommendations.from.every((r) => r.startsWith('CommunicationRequest/')));
    assert.deepEqual(ann.changes.from.map((r) => r.split('/')[0]), ['CommunicationRequest', 'Communication']);
    assert.ok(ann.enrollmentDate.from[0].startsWith('EpisodeOfCare/'));
  });

  it('reports an opt-out with its date and CMS reason, and a CMR offered but not received', () => {
    const bob = record(year.bob.patient);
    assert.equal(bob.optOutDate.value, '2026-05-01');
    assert.equal(bob.optOutReason.value, '03');
    assert.deepEqual(bob.optOutReason.from, [year.bob.episode]);
    assert.equal(bob.enrollmentDate.value, '2025-06-01');
    assert.equal(bob.cmrOffered.value, 'Y');
    assert.equal(bob.cmrOfferDate.value, '2026-02-01');
    assert.deepEqual(bob.cmrOffered.from, [year.bob.offer]);
    assert.equal(bob.cmrReceived.value, 'N');
    assert.equal(bob.summarySentDate.value, null);
  });

  it('reports a CMR with no delivery method as an issue, not as a silent blank', () => {
    const cy = record(year.cy.patient);
    assert.equal(cy.cmrReceived.value, 'Y');
    assert.equal(cy.deliveryMethod.value, null);
    assert.ok(cy.issues.some((i) => i.includes(year.cy.cmr) && i.includes('has no delivery method')), JSON.stringify(cy.issues));
    assert.ok(report.beneficiariesWithIssues >= 1);
  });

  it('gives the same records as CSV a spreadsheet opens, with formulas defused', async () => {
    const res = await t.api().get(`${t.base}/$mtm-part-d-report?year=2026`).set('Accept', 'text/csv');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/csv/);
    assert.match(res.headers['content-disposition'], /mtm-part-d-2026\.csv/);
    const rows = parseCsv(res.text);
    const header = rows[0];
    assert.equal(rows.length, 1 + report.records.length);
    const ann = rows.find((r) => r[0] === year.ann.patient) as string[];
    const cell = (row: string[], column: string) => row[header.indexOf(column)];
    assert.equal(cell(ann, 'cmr_delivery_method'), '02');
    assert.equal(cell(ann, 'summary_sent_date'), '2026-03-10');
    assert.equal(cell(ann, 'recommendations_resulting_in_change'), '1');
    const cy = rows.find((r) => r[0] === year.cy.patient) as string[];
    assert.equal(cell(cy, 'name'), `'=HYPERLINK("http://evil.example") Cy`, 'a name that would run as a formula starts with an apostrophe');
    assert.match(cell(cy, 'issues'), /has no delivery method/);
  });

  it('answers 400 for a missing or malformed year, and 406 for a format it does not offer', async () => {
    assert.equal((await t.api().get(`${t.base}/$mtm-part-d-report`)).status, 400);
    assert.equal((await t.api().get(`${t.base}/$mtm-part-d-report?year=26`)).status, 400);
    const xml = await t.api().get(`${t.base}/$mtm-part-d-report?year=2026`).set('Accept', 'application/xml');
    assert.equal(xml.status, 406);
    assert.equal(xml.body.resourceType, 'OperationOutcome');
  });
});
