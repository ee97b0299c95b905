/**
 * The search layer's public face.
 *
 *   const index = createSearchIndex(mtmSearchParameters());          // before the repository
 *   const repository = new ResourceRepository(engine, index.indexer); // stores sp/sk on every write
 *   const search = createSearchService(repository, index, config.search);
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { mtmTerminology } from '../conformance';
import type { ResourceRepository } from '../repository/repository';
import { Terminology } from '../validation/terminology';
import { ResourceIndexer } from './indexer';
import { SearchParameterRegistry } from './registry';
import { type SearchLimits, SearchService, type ValueSetCodes } from './service';

export type { SearchInput, SearchResult } from './service';
export { reindexStale } from './reindex';
export { RuntimeSearchParameters } from './runtime-parameters';
export { SearchService } from './service';

export interface SearchIndex {
  registry: SearchParameterRegistry;
  indexer: ResourceIndexer;
}

/** The R4 SearchParameters plus `customParameters` (ours from profiles/), compiled lazily per type. */
export function createSearchIndex(customParameters: readonly SearchParameter[] = []): SearchIndex {
  const registry = new SearchParameterRegistry(customParameters);
  return { registry, indexer: new ResourceIndexer(registry) };
}

/** ValueSet expansion for :in / :not-in, loaded on the first query that needs it (about 20 MB of JSON). */
function lazyValueSets(): ValueSetCodes {
  let terminology: Terminology | undefined;
  return (url) => (terminology ??= new Terminology(mtmTerminology())).codesBySystem(url);
}

export function createSearchService(
  repository: ResourceRepository,
  index: SearchIndex,
  limits: SearchLimits,
  valueSetCodes: ValueSetCodes = lazyValueSets(),
): SearchService {
  return new SearchService(repository, index.registry, limits, valueSetCodes);
}
