/**
 * Whether one version of a resource matches a Subscription's criteria, decided by the search layer's
 * own compiler: the criteria become the storage filter a search would run, tested in memory on the
 * version's search values (as the access policy judges a single resource). Chains and _has resolve
 * their links against the stored data, as a search does.
 */
import type { Resource } from '@medplum/fhirtypes';
import { Query } from 'mingo';
import type { SearchIndexer } from '../repository/repository';
import type { Filter } from '../storage/port';
import type { Criteria } from './subscription-resource';

export interface CriteriaCompiler {
  criteriaFilter(type: string, query: Array<[string, string]>): Promise<Filter>;
}

// mingo's Criteria type is a plain object map, looser than our Filter.
type MingoCriteria = ConstructorParameters<typeof Query>[0];

export class CriteriaMatcher {
  constructor(
    private readonly compiler: CriteriaCompiler,
    private readonly indexer: SearchIndexer,
  ) {}

  async matches(criteria: Criteria, resource: Resource): Promise<boolean> {
    if (resource.resourceType !== criteria.type) return false;
    const filter = await this.compiler.criteriaFilter(criteria.type, criteria.query);
    const doc = { _id: resource.id, resource, ...this.indexer.index(resource) };
    return new Query(filter as MingoCriteria).test(doc);
  }
}
