import assert from 'node:assert/strict';
import type { MedicationStatement } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, follow, search, type SearchResponse } from './search-helpers';

const SUBSETTED = 'SUBSETTED';

describe('Search results: sorting, paging, totals, summaries and includes', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  async function allPages(first: SearchResponse): Promise<string[][]> {
    const pages = [first.ids];
    let page = first;
    for (let next = linkOf(page, 'next'); next; next = linkOf(page, 'next')) {
      page = await follow(t, next);
      assert.equal(page.status, 200);
      pages.push(page.ids);
    }
    return pages;
  }

  describe('_sort', () => {
    it('sorts by a date, ascending or descending, comparing instants in UTC', async () => {
      const ascending = await search(t, 'MedicationStatement', { patient: 'rosa-alvarez', _sort: 'effective' });
      assert.deepEqual(ascending.ids, ['ms-rosa-metformin', 'ms-rosa-lisinopril', 'ms-rosa-amlodipine', 'ms-rosa-atorvastatin']);
      const descending = await search(t, 'MedicationStatement', { patient: 'rosa-alvarez', _sort: '-effective' });
      assert.deepEqual(descending.ids, [...ascending.ids].reverse());
    });

    it('sorts by several keys', async () => {
      const result = await search(t, 'MedicationStatement', { _sort: 'status,-effective' });
      assert.deepEqual(result.ids, [
        'ms-rosa-atorvastatin', // 1 March 04:30 UTC
        'ms-nguyen-furosemide', // "2024-03"
        'ms-holloway-amlodipine', // 29 February 22:00 UTC
        'ms-holloway-clopidogrel',
        'ms-rosa-lisinopril',
        'ms-rosa-metformin',
        'ms-holloway-warfarin',
        'ms-nguyen-metformin',
        'ms-rosa-amlodipine',
        'ms-nguyen-acetaminophen',
      ]);
    });

    it('breaks ties by id, and puts resources without a value first (ascending) or last (descending)', async () => {
      const byStatus = await search(t, 'MedicationStatement', { _sort: 'status' });
      const active = byStatus.ids.slice(0, 7);
      assert.deepEqual(active, [...active].sort());
      assert.deepEqual(byStatus.ids.slice(7), ['ms-nguyen-acetaminophen', 'ms-nguyen-metformin', 'ms-rosa-amlodipine']);
      const owned = ['task-holloway-cmr', 'task-nguyen-pdr', 'task-rosa-cmr'];
      assert.deepEqual((await search(t, 'Task', { _sort: 'owner' })).ids, ['task-rosa-tmr', ...owned]);
      assert.deepEqual((await search(t, 'Task', { _sort: '-owner' })).ids, [...owned, 'task-rosa-tmr']);
    });

    it('sorts strings without regard to case or accents, and by _id or _lastUpdated', async () => {
      assert.deepEqual((await search(t, 'Patient', { _sort: 'family' })).ids, ['rosa-alvarez', 'margaret-holloway', 'walter-nguyen']);
      assert.deepEqual((await search(t, 'Patient', { _sort: '-_id' })).ids, ['walter-nguyen', 'rosa-alvarez', 'margaret-holloway']);
      // the fixtures are written in order: practitioners first
      assert.deepEqual((await search(t, 'Practitioner', { _sort: '_lastUpdated' })).ids, ['pharm-okafor', 'dr-chen', 'dr-patel']);
    });

    it('ignores an unknown sort parameter with a warning, or refuses it under strict handling', async () => {
      const lenient = await search(t, 'Patient', { _sort: 'shoe-size' });
      assert.equal(lenient.ids.length, 3);
      assert.match(lenient.warnings.join(' '), /shoe-size/);
      await expectBadRequest(t, 'Patient', { _sort: 'shoe-size' }, '_sort', { Prefer: 'handling=strict' });
      await expectBadRequest(t, 'Patient', { _sort: 'name;drop' }, '_sort');
    });
  });

  describe('_count and paging links', () => {
    it('pages through every result exactly once, with links that carry the whole query', async () => {
      const query = { 'code:not': 'http://www.nlm.nih.gov/research/umls/rxnorm|197361', _sort: 'status,-effective', _count: '3' };
      const first = await search(t, 'MedicationStatement', query);
      assert.equal(first.ids.length, 3);
      const self = new URL(linkOf(first, 'self') as string);
      assert.equal(self.searchParams.get('code:not'), query['code:not']);
      assert.equal(self.searchParams.get('_sort'), 'status,-effective');
      const next = new URL(linkOf(first, 'next') as string);
      assert.equal(next.searchParams.get('code:not'), query['code:not']);
      assert.equal(next.searchParams.get('_count'), '3');
      assert.ok(next.searchParams.get('_cursor'));
      assert.equal(linkOf(first, 'previous'), undefined);
      assert.ok(linkOf(first, 'first'));

      const pages = await allPages(first);
      assert.deepEqual(pages.map((p) => p.length), [3, 3, 2]);
      const everything = (await search(t, 'MedicationStatement', { ...query, _count: '50' })).ids;
      assert.deepEqual(pages.flat(), everything);
    });

    it('walks back with the previous link', async () => {
      const first = await search(t, 'MedicationStatement', { _sort: 'effective', _count: '4' });
      const second = await follow(t, linkOf(first, 'next') as string);
      const third = await follow(t, linkOf(second, 'next') as string);
      assert.equal(linkOf(third, 'next'), undefined);
      const backToSecond = await follow(t, linkOf(third, 'previous') as string);
      assert.deepEqual(backToSecond.ids, second.ids);
      const backToFirst = await follow(t, linkOf(backToSecond, 'previous') as string);
      assert.deepEqual(backToFirst.ids, first.ids);
      assert.equal(linkOf(backToFirst, 'previous'), undefined);
    });

    it('refuses a malformed _count or cursor', async () => {
      await expectBadRequest(t, 'Patient', { _count: '-1' }, '_count');
      await expectBadRequest(t, 'Patient', { _count: 'ten' }, '_count');
      await expectBadRequest(t, 'Patient', [['_count', '1'], ['_count', '2']], '_count');
      await expectBadRequest(t, 'Patient', { _cursor: 'not-a-cursor' }, '_cursor');
    });
  });

  describe('_total', () => {
    it('counts on request; by default only when the page holds everything', async () => {
      assert.equal((await search(t, 'MedicationStatement', { _count: '2', _total: 'accurate' })).bundle.total, 10);
      assert.equal((await search(t, 'MedicationStatement', { _count: '2', _total: 'estimate' })).bundle.total, 10);
      assert.equal((await search(t, 'MedicationStatement', { _count: '2' })).bundle.total, undefined);
      assert.equal((await search(t, 'MedicationStatement', {})).bundle.total, 10);
      assert.equal((await search(t, 'MedicationStatement', { _total: 'none' })).bundle.total, undefined);
      await expectBadRequest(t, 'MedicationStatement', { _total: 'exact' }, '_total');
    });
  });

  describe('_summary and _elements', () => {
    it('_summary=count and _count=0 give the total alone', async () => {
      for (const query of [{ _summary: 'count' }, { _count: '0' }] as Array<Record<string, string>>) {
        const result = await search(t, 'MedicationStatement', { status: 'active', ...query });
        assert.equal(result.bundle.total, 7);
        assert.equal(result.ids.length, 0);
      }
    });

    it('_summary=true keeps the summary elements and marks the resource SUBSETTED', async () => {
      const result = await search(t, 'MedicationStatement', { _id: 'ms-holloway-warfarin', _summary: 'true' });
      const statement = result.bundle.entry?.[0].resource as MedicationStatement;
      assert.ok(statement.status && statement.medicationCodeableConcept && statement.subject && statement.effectivePeriod && statement.dateAsserted);
      assert.equal(statement.dosage, undefined);
      assert.equal(statement.reasonCode, undefined);
      assert.equal(statement.informationSource, undefined);
      assert.ok(statement.meta?.tag?.some((tag) => tag.code === SUBSETTED));
    });

    it('_summary=data drops the narrative, _summary=false returns everything', async () => {
      const withText = { resourceType: 'Practitioner', id: 'pharm-lee', name: [{ family: 'Lee' }], text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Lee</div>' } };
      await t.api().put(`${t.base}/Practitioner/pharm-lee`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(withText));
      const data = (await search(t, 'Practitioner', { _id: 'pharm-lee', _summary: 'data' })).bundle.entry?.[0].resource as { text?: unknown; name?: unknown };
      assert.equal(data.text, undefined);
      assert.ok(data.name);
      const text = (await search(t, 'Practitioner', { _id: 'pharm-lee', _summary: 'text' })).bundle.entry?.[0].resource as { text?: unknown; name?: unknown };
      assert.ok(text.text);
      assert.equal(text.name, undefined);
      const full = (await search(t, 'Practitioner', { _id: 'pharm-lee', _summary: 'false' })).bundle.entry?.[0].resource as { text?: unknown; meta?: { tag?: unknown } };
      assert.ok(full.text);
      assert.equal(full.meta?.tag, undefined);
    });

    it('_elements keeps the listed and the mandatory elements', async () => {
      const result = await search(t, 'MedicationStatement', { _id: 'ms-holloway-warfarin', _elements: 'effective,identifier' });
      const statement = result.bundle.entry?.[0].resource as MedicationStatement;
      assert.ok(statement.effectivePeriod && statement.identifier);
      assert.ok(statement.status && statement.medicationCodeableConcept && statement.subject, 'mandatory elements stay');
      assert.equal(statement.dosage, undefined);
      assert.equal(statement.dateAsserted, undefined);
      assert.ok(statement.meta?.tag?.some((tag) => tag.code === SUBSETTED));
      await expectBadRequest(t, 'MedicationStatement', { _elements: 'status,$where' }, '_elements');
    });
  });

  describe('_include and _revinclude', () => {
    it('includes referenced resources with search.mode include', async () => {
      const result = await search(t, 'MedicationStatement', { _id: 'ms-holloway-warfarin', _include: 'MedicationStatement:patient' });
      assert.deepEqual(result.ids, ['ms-holloway-warfarin']);
      assert.deepEqual(result.included, ['Patient/margaret-holloway']);
    });

    it('follows our own Task output parameter, by target type too', async () => {
      const outputs = await search(t, 'Task', { _id: 'task-holloway-cmr', _include: 'Task:output' });
      assert.deepEqual(outputs.included, ['CarePlan/map-holloway', 'List/list-margaret-holloway']);
      const plans = await search(t, 'Task', { _id: 'task-holloway-cmr', _include: 'Task:output:CarePlan' });
      assert.deepEqual(plans.included, ['CarePlan/map-holloway']);
    });

    it("pulls a patient's active Medication Action Plan with the DetectedIssues it addresses (CarePlan:supporting-info)", async () => {
      const result = await search(t, 'CarePlan', { patient: 'margaret-holloway', status: 'active', _include: 'CarePlan:supporting-info' });
      assert.deepEqual(result.ids, ['map-holloway']);
      assert.deepEqual(result.included, ['DetectedIssue/di-holloway-bleeding']);
      const byProblem = await search(t, 'CarePlan', { 'supporting-info': 'DetectedIssue/di-holloway-bleeding' });
      assert.deepEqual(byProblem.ids, ['map-holloway']);
    });

    it(':iterate includes from included resources: the CMR, its medication list and the statements on it', async () => {
      const once = await search(t, 'Task', [['_id', 'task-holloway-cmr'], ['_include', 'Task:output'], ['_include', 'List:item']]);
      assert.deepEqual(once.included, ['CarePlan/map-holloway', 'List/list-margaret-holloway']);
      const iterated = await search(t, 'Task', [['_id', 'task-holloway-cmr'], ['_include', 'Task:output'], ['_include:iterate', 'List:item']]);
      assert.deepEqual(iterated.included, [
        'CarePlan/map-holloway',
        'List/list-margaret-holloway',
        'MedicationStatement/ms-holloway-amlodipine',
        'MedicationStatement/ms-holloway-clopidogrel',
        'MedicationStatement/ms-holloway-warfarin',
      ]);
    });

    it('_include=* follows every reference parameter', async () => {
      const result = await search(t, 'DetectedIssue', { _id: 'di-holloway-bleeding', _include: '*' });
      assert.deepEqual(result.included, [
        'MedicationStatement/ms-holloway-clopidogrel',
        'MedicationStatement/ms-holloway-warfarin',
        'Patient/margaret-holloway',
        'Practitioner/pharm-okafor',
      ]);
    });

    it('revincludes resources that refer to the matches, once each, and iterates', async () => {
      const issues = await search(t, 'MedicationStatement', { patient: 'margaret-holloway', _revinclude: 'DetectedIssue:implicated' });
      assert.equal(issues.ids.length, 3);
      assert.deepEqual(issues.included, ['DetectedIssue/di-holloway-bleeding']);
      const chart = await search(t, 'Patient', [
        ['_id', 'margaret-holloway'],
        ['_revinclude', 'MedicationStatement:subject'],
        ['_revinclude:iterate', 'DetectedIssue:implicated'],
      ]);
      assert.deepEqual(chart.included, [
        'DetectedIssue/di-holloway-bleeding',
        'MedicationStatement/ms-holloway-amlodipine',
        'MedicationStatement/ms-holloway-clopidogrel',
        'MedicationStatement/ms-holloway-warfarin',
      ]);
    });

    it('an EHR pulls a care plan with its patient and issues in one request', async () => {
      const result = await search(t, 'CarePlan', [
        ['patient', 'margaret-holloway'],
        ['category', 'http://snomed.info/sct|736378000'],
        ['status', 'active'],
        ['_include', 'CarePlan:patient'],
        ['_revinclude', 'Task:output'],
      ]);
      assert.deepEqual(result.ids, ['map-holloway']);
      assert.deepEqual(result.included, ['Patient/margaret-holloway', 'Task/task-holloway-cmr']);
    });

    it('refuses an include of a parameter that does not exist or is not a reference', async () => {
      await expectBadRequest(t, 'MedicationStatement', { _include: 'MedicationStatement:prescriber' }, '_include');
      await expectBadRequest(t, 'MedicationStatement', { _include: 'MedicationStatement:status' }, '_include');
      await expectBadRequest(t, 'MedicationStatement', { _revinclude: 'Nothing:subject' }, '_revinclude');
      await expectBadRequest(t, 'MedicationStatement', { '_include:deep': 'MedicationStatement:patient' }, '_include:deep');
    });
  });

  describe('POST _search', () => {
    it('takes form-encoded parameters and answers like GET, with GET links', async () => {
      const res = await t
        .api()
        .post(`${t.base}/MedicationStatement/_search`)
        .type('form')
        .send('patient=margaret-holloway&_sort=-effective&_count=2');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['ms-holloway-amlodipine', 'ms-holloway-clopidogrel']);
      const next = new URL(res.body.link.find((l: { relation: string }) => l.relation === 'next').url);
      assert.match(next.pathname, /\/MedicationStatement$/);
      assert.equal(next.searchParams.get('patient'), 'margaret-holloway');
      const rest = await follow(t, next.toString());
      assert.deepEqual(rest.ids, ['ms-holloway-warfarin']);
    });

    it('works at system level with _type', async () => {
      const res = await t.api().post(`${t.base}/_search`).type('form').send('_type=Practitioner&name=okafor');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['pharm-okafor']);
    });
  });

  describe('deletion', () => {
    it('never returns deleted resources', async () => {
      await expectIds(t, 'Practitioner', { name: 'lee' }, ['pharm-lee']);
      assert.equal((await t.api().delete(`${t.base}/Practitioner/pharm-lee`)).status, 200);
      await expectIds(t, 'Practitioner', { name: 'lee' }, []);
      await expectIds(t, 'Practitioner', { _id: 'pharm-lee' }, []);
    });
  });
});

function linkOf(result: SearchResponse, relation: string): string | undefined {
  return result.bundle.link?.find((l) => l.relation === relation)?.url;
}
