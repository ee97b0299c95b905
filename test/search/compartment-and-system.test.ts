import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, follow, search } from './search-helpers';

const HOLLOWAY = ['ms-holloway-warfarin', 'ms-holloway-clopidogrel', 'ms-holloway-amlodipine'];

function typed(result: Awaited<ReturnType<typeof search>>): string[] {
  return (result.bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();
}

describe('Compartment and system-level search', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  describe('Patient compartment', () => {
    it('GET /Patient/{id}/{type} returns that patient’s resources of the type', async () => {
      await expectIds(t, 'Patient/margaret-holloway/MedicationStatement', {}, HOLLOWAY);
      await expectIds(t, 'Patient/walter-nguyen/Observation', {}, ['obs-nguyen-bp', 'obs-nguyen-weight']);
      await expectIds(t, 'Patient/margaret-holloway/Task', {}, ['task-holloway-cmr']);
    });

    it('takes further search parameters and result parameters', async () => {
      await expectIds(t, 'Patient/margaret-holloway/MedicationStatement', { code: '855332' }, ['ms-holloway-warfarin']);
      const sorted = await search(t, 'Patient/margaret-holloway/MedicationStatement', { _sort: 'effective', _count: '2' });
      assert.deepEqual(sorted.ids, ['ms-holloway-warfarin', 'ms-holloway-clopidogrel']);
      const next = sorted.bundle.link?.find((l) => l.relation === 'next')?.url as string;
      assert.match(new URL(next).pathname, /\/Patient\/margaret-holloway\/MedicationStatement$/);
      assert.deepEqual((await follow(t, next)).ids, ['ms-holloway-amlodipine']);
    });

    it('GET /Patient/{id}/* returns everything in the compartment, the patient included', async () => {
      const result = await search(t, 'Patient/margaret-holloway/*', { _count: '100' });
      assert.equal(result.status, 200);
      assert.deepEqual(typed(result), [
        'CarePlan/map-holloway',
        'DetectedIssue/di-holloway-bleeding',
        'List/list-margaret-holloway',
        ...HOLLOWAY.map((id) => `MedicationStatement/${id}`).sort(),
        'Patient/margaret-holloway',
        'Task/task-holloway-cmr',
      ]);
    });

    it('pages through /Patient/{id}/* across types without repeating or skipping', async () => {
      const all = typed(await search(t, 'Patient/walter-nguyen/*', { _count: '100' }));
      const seen: string[] = [];
      let page = await search(t, 'Patient/walter-nguyen/*', { _count: '3' });
      for (;;) {
        seen.push(...typed(page));
        const next = page.bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        page = await follow(t, next);
      }
      assert.deepEqual(seen.sort(), all);
      assert.equal(all.length, 11);
    });

    it('a type outside the compartment gives an empty result with a warning; other compartments are refused', async () => {
      const result = await search(t, 'Patient/margaret-holloway/Organization', {});
      assert.equal(result.status, 200);
      assert.deepEqual(result.ids, []);
      assert.match(result.warnings.join(' '), /Organization/);
      const res = await t.api().get(`${t.base}/Practitioner/dr-chen/Patient`);
      assert.equal(res.status, 400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });
  });

  describe('system level', () => {
    it('GET /?_type=… searches several types with their common parameters', async () => {
      const result = await search(t, '', { _type: 'MedicationStatement,DetectedIssue', patient: 'margaret-holloway' });
      assert.deepEqual(typed(result), ['DetectedIssue/di-holloway-bleeding', ...HOLLOWAY.map((id) => `MedicationStatement/${id}`).sort()]);
      await expectIds(t, '', { _type: 'Patient,Practitioner', name: 'chen' }, ['dr-chen']);
    });

    it('pages across types in one stable order', async () => {
      const query = { _type: 'MedicationStatement,DetectedIssue,CarePlan', _sort: '-_lastUpdated' };
      const all = typed(await search(t, '', { ...query, _count: '100' }));
      const seen: string[] = [];
      let page = await search(t, '', { ...query, _count: '4' });
      for (;;) {
        seen.push(...typed(page));
        const next = page.bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        page = await follow(t, next);
      }
      assert.equal(seen.length, 16);
      assert.deepEqual(seen.sort(), all);
    });

    it('walks back across types with the previous links', async () => {
      const query = { _type: 'MedicationStatement,DetectedIssue,CarePlan', _sort: 'status', _count: '5' };
      const forward: string[][] = [];
      let page = await search(t, '', query);
      for (;;) {
        forward.push(page.ids);
        const next = page.bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        page = await follow(t, next);
      }
      const backward: string[][] = [page.ids];
      for (let previous = page.bundle.link?.find((l) => l.relation === 'previous')?.url; previous; ) {
        page = await follow(t, previous);
        backward.unshift(page.ids);
        previous = page.bundle.link?.find((l) => l.relation === 'previous')?.url;
      }
      assert.deepEqual(backward, forward);
      assert.equal(forward.flat().length, 16);
    });

    it('without _type searches every type', async () => {
      await expectIds(t, '', { _id: 'ms-holloway-warfarin' }, ['ms-holloway-warfarin']);
    });

    it('a parameter one of the types lacks is ignored with a warning, or refused under strict handling', async () => {
      const lenient = await search(t, '', { _type: 'Patient,Practitioner', birthdate: '1948' });
      assert.match(lenient.warnings.join(' '), /birthdate/);
      await expectBadRequest(t, '', { _type: 'Patient,Practitioner', birthdate: '1948' }, 'birthdate', { Prefer: 'handling=strict' });
      await expectBadRequest(t, '', { _type: 'Patient,Pharmacist' }, '_type');
    });
  });
});
