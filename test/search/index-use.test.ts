import assert from 'node:assert/strict';
import type { ResourceDocument } from '../../src/storage/collections';
import type { DocumentCollection, Filter } from '../../src/storage/port';
import { ALIVE, and, compileCriterion, type CompileContext } from '../../src/search/compile';
import { CriteriaParser } from '../../src/search/criteria';
import { createSearchIndex } from '../../src/search';
import { mtmSearchParameters } from '../../src/conformance';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords, mtmRecords, RXNORM } from '../fixtures/search/mtm-records';

/**
 * Selective searches must not read every resource: for the filters the search layer compiles, the
 * storage engine the server runs on examines only the documents its search index narrows them to
 * (explain's docsExamined, as MongoDB reports it), and those are exactly the matches.
 */
describe('Selective searches examine only the resources they find', () => {
  let t: TestServer;
  let statements: DocumentCollection<ResourceDocument>;
  const { registry } = createSearchIndex(mtmSearchParameters());
  const parser = new CriteriaParser(registry);
  const ctx: CompileContext = {
    valueSetCodes: () => undefined,
    componentType: () => undefined,
    linked: { find: async () => [] },
  };
  const stored = mtmRecords().filter((r) => r.resourceType === 'MedicationStatement').length;

  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
    statements = await t.server.repository.collection('MedicationStatement');
  });
  after(async () => t.close());

  /** The ids a search finds, and how many documents the engine examined to find them. */
  async function examined(name: string, value: string): Promise<{ ids: string[]; docsExamined: number }> {
    const filter: Filter = and([ALIVE, await compileCriterion(parser.parse('MedicationStatement', name, value), ctx)]);
    const ids = (await statements.find(filter)).map((d) => d._id).sort();
    return { ids, docsExamined: (await statements.explain(filter)).docsExamined };
  }

  it(`reads all ${stored} MedicationStatements only when nothing narrows the search`, async () => {
    assert.ok(stored >= 10);
    assert.equal((await statements.explain(ALIVE)).docsExamined, stored);
  });

  it('MedicationStatement?patient=X', async () => {
    assert.deepEqual(await examined('patient', 'margaret-holloway'), {
      ids: ['ms-holloway-amlodipine', 'ms-holloway-clopidogrel', 'ms-holloway-warfarin'],
      docsExamined: 3,
    });
  });

  it('MedicationStatement?code=system|code, and several codes at once', async () => {
    assert.deepEqual(await examined('code', `${RXNORM}|855332`), { ids: ['ms-holloway-warfarin'], docsExamined: 1 });
    assert.deepEqual(await examined('code', `${RXNORM}|855332,http://snomed.info/sct|309362,309362`), {
      ids: ['ms-holloway-clopidogrel', 'ms-holloway-warfarin'],
      docsExamined: 2,
    });
  });

  it('identifiers, statuses and references by type', async () => {
    assert.deepEqual(await examined('identifier', 'MS-ROSA-METFORMIN'), { ids: ['ms-rosa-metformin'], docsExamined: 1 });
    const completed = await examined('status', 'completed');
    assert.equal(completed.ids.length, 3);
    assert.equal(completed.docsExamined, 3);
    assert.deepEqual(await examined('source:Practitioner', 'dr-patel'), { ids: ['ms-nguyen-acetaminophen', 'ms-nguyen-furosemide'], docsExamined: 2 });
  });

  it('a date range nothing else pins (range index on the stored date ends)', async () => {
    assert.deepEqual(await examined('effective', 'lt2020'), { ids: ['ms-nguyen-acetaminophen'], docsExamined: 1 });
    // 'ge' is an $or of two ranges (one per stored end): the embedded engine reads both B-trees.
    if (t.server.repository.engine.kind !== 'embedded') return;
    const asserted = await examined('effective', 'ge2024-03-01');
    assert.ok(asserted.ids.length > 0 && asserted.ids.length < stored);
    assert.equal(asserted.docsExamined, asserted.ids.length);
  });
});
