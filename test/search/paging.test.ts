import assert from 'node:assert/strict';
import type { Bundle, MedicationStatement } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { DRUG, RXNORM } from '../fixtures/search/mtm-records';
import { follow, search, type SearchResponse } from './search-helpers';

const PATIENT = 'Patient/long-term-care-resident';
const drugs = Object.values(DRUG);

/** One of 50 start days, so many statements share a date and the id has to break ties. */
function statement(n: number): MedicationStatement {
  const drug = drugs[n % drugs.length];
  const day = new Date(Date.UTC(2023, 0, 1 + (n % 50))).toISOString().slice(0, 10);
  return {
    resourceType: 'MedicationStatement',
    status: n % 3 === 0 ? 'completed' : 'active',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: drug.code, display: drug.display }] },
    subject: { reference: PATIENT },
    effectivePeriod: { start: day },
    dateAsserted: '2024-01-10T09:00:00Z',
    dosage: [{ text: 'As directed' }],
    reasonCode: [{ text: 'Chronic condition under MTM review' }],
  };
}

function nextLink(result: SearchResponse): string | undefined {
  return result.bundle.link?.find((l) => l.relation === 'next')?.url;
}

describe('Paging while other clients write', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ search: { defaultCount: 20, maxCount: 100 } });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 250 }, (_, n) => ({ resource: statement(n), request: { method: 'POST', url: 'MedicationStatement' } })),
    };
    const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
  });
  after(async () => t.close());

  it('returns each of 250 results exactly once under _sort while another client inserts', async () => {
    const original = new Set((await search(t, 'MedicationStatement', { patient: PATIENT, _count: '100', _total: 'accurate' })).bundle.entry?.map((e) => e.resource?.id as string));
    assert.equal((await search(t, 'MedicationStatement', { patient: PATIENT, _summary: 'count' })).bundle.total, 250);

    let paging = true;
    let inserted = 0;
    const insertedDuringPaging: number[] = [];
    const inserter = (async () => {
      for (let n = 250; paging; n++) {
        const res = await t.api().post(`${t.base}/MedicationStatement`).set('Content-Type', FHIR_JSON).send(JSON.stringify(statement(n)));
        assert.equal(res.status, 201);
        inserted++;
      }
    })();

    const seen: string[] = [];
    let page = await search(t, 'MedicationStatement', { patient: PATIENT, _sort: '-effective,status', _count: '20' });
    for (;;) {
      assert.equal(page.status, 200);
      seen.push(...page.ids);
      insertedDuringPaging.push(inserted);
      const next = nextLink(page);
      if (!next) break;
      await new Promise((resolve) => setImmediate(resolve)); // let the other client in between pages
      page = await follow(t, next);
    }
    paging = false;
    await inserter;

    assert.ok(insertedDuringPaging[insertedDuringPaging.length - 1] > insertedDuringPaging[0], 'inserts happened while paging');
    assert.equal(new Set(seen).size, seen.length, 'no resource appears twice');
    for (const id of original) assert.ok(seen.includes(id), `${id} was skipped`);
    assert.ok(seen.length >= 250);
  });

  it('pages in the default size, and caps _count at the configured maximum', async () => {
    assert.equal((await search(t, 'MedicationStatement', { patient: PATIENT })).ids.length, 20);
    assert.equal((await search(t, 'MedicationStatement', { patient: PATIENT, _count: '5000' })).ids.length, 100);
  });

  it('keeps the order stable across pages when many results share a sort key', async () => {
    const pages: string[] = [];
    let page = await search(t, 'MedicationStatement', { patient: PATIENT, _sort: 'effective', _count: '7' });
    for (let i = 0; i < 6; i++) {
      pages.push(...page.ids);
      page = await follow(t, nextLink(page) as string);
    }
    const single = (await search(t, 'MedicationStatement', { patient: PATIENT, _sort: 'effective', _count: '42' })).ids;
    assert.deepEqual(pages, single);
  });
});
