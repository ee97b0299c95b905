/** Filtering, sorting and paging of in-memory documents with mingo, the same way MongoDB would. */
import { Query } from 'mingo';
import type { Filter, FindOptions } from '../port';

// mingo's own types are looser than ours; its Criteria type is a plain object map.
type MingoCriteria = ConstructorParameters<typeof Query>[0];

export function compileFilter(filter: Filter): Query {
  return new Query(filter as MingoCriteria);
}

export function runQuery<T>(query: Query, docs: Iterable<T>, options: FindOptions = {}): T[] {
  // mingo types projections by the document's paths; ours are plain field maps.
  let cursor = query.find<T>(docs, options.projection as Parameters<Query['find']>[1]);
  if (options.sort && Object.keys(options.sort).length > 0) cursor = cursor.sort(options.sort);
  if (options.skip) cursor = cursor.skip(options.skip);
  if (options.limit !== undefined && options.limit > 0) cursor = cursor.limit(options.limit);
  return cursor.all() as T[];
}
