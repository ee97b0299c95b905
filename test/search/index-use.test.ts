import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { mtmSearchParameters } from '../../src/conformance';
import { ALIVE, and, compileCriterion, type CompileContext } from '../../src/search/compile';
import { CriteriaParser } from '../../src/search/criteria';
import { createSearchIndex } from '../../src/search';
import type { Filter } from '../../src/storage/port';
import { ValueIndex } from '../../src/storage/embedded/value-index';
import { mtmRecords, RXNORM } from '../fixtures/search/mtm-records';

/**
 * Selective searches must not scan every resource: the filters the search layer compiles pin both
 * fields of the one declared index (sp.n, sp.k), which MongoDB and the embedded engine both serve.
 */
describe('Compiled searches are served by the search index', () => {
  const { registry, indexer } = createSearchIndex(mtmSearchParameters());
  const parser = new CriteriaParser(registry);
  const ctx: CompileContext = {
    valueSetCodes: () => undefined,
    componentType: () => undefined,
    linked: { find: async () => [] },
  };
  const index = new ValueIndex(indexer.indexSpecs()[0]);
  const records = mtmRecords().filter((r) => r.resourceType === 'MedicationStatement');
  for (const resource of records) {
    const stamped = { ...resource, meta: { ...resource.meta, lastUpdated: '2024-06-01T00:00:00Z' } } as Resource;
    index.add(resource.id as string, { _id: resource.id, ...indexer.index(stamped) });
  }

  async function candidates(name: string, value: string): Promise<string[] | undefined> {
    const filter: Filter = and([ALIVE, await compileCriterion(parser.parse('MedicationStatement', name, value), ctx)]);
    // the engine asks the index about each conjunct of the filter
    const conjuncts = (filter.$and as Filter[]) ?? [filter];
    for (const part of conjuncts) {
      const found = index.candidates(part);
      if (found) return [...found].sort();
    }
    return undefined;
  }

  it('MedicationStatement?patient=X', async () => {
    assert.deepEqual(await candidates('patient', 'margaret-holloway'), ['ms-holloway-amlodipine', 'ms-holloway-clopidogrel', 'ms-holloway-warfarin']);
  });

  it('MedicationStatement?code=system|code, and several codes at once', async () => {
    assert.deepEqual(await candidates('code', `${RXNORM}|855332`), ['ms-holloway-warfarin']);
    assert.deepEqual(await candidates('code', `${RXNORM}|855332,http://snomed.info/sct|309362,309362`), ['ms-holloway-clopidogrel', 'ms-holloway-warfarin']);
  });

  it('identifiers, statuses and references by type', async () => {
    assert.deepEqual(await candidates('identifier', 'MS-ROSA-METFORMIN'), ['ms-rosa-metformin']);
    assert.equal((await candidates('status', 'completed'))?.length, 3);
    assert.deepEqual(await candidates('source:Practitioner', 'dr-patel'), ['ms-nguyen-acetaminophen', 'ms-nguyen-furosemide']);
  });
});
