/**
 * Evaluates a find over candidate documents with a compiled JavaScript predicate (fast-filter.ts)
 * instead of mingo, for the shapes searches use: no projection, and either no sort, a sort on _id
 * alone (keyset paging), or any other sort, which mingo then applies to the matches only.
 *
 * With a sort on _id and a limit, only the best skip+limit ids are kept, and a candidate whose id
 * cannot make it into them is not even tested: a page of 20 out of 15,000 candidates evaluates the
 * predicate a few hundred times, not 15,000.
 */
import type { Document, FindOptions } from '../port';
import type { Predicate } from './fast-filter';
import { compileFilter as compileMingo, runQuery } from './query';

/** Results in the order mingo would give them, or undefined when this path does not apply. */
export function scan<T extends Document>(candidates: Iterable<T>, predicate: Predicate, options: FindOptions): T[] | undefined {
  if (options.projection) return undefined;
  const skip = options.skip ?? 0;
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const sortKeys = Object.keys(options.sort ?? {});
  const test = (doc: T) => predicate(doc as unknown as Record<string, unknown>);

  if (sortKeys.length === 0) {
    const wanted = limit === undefined ? Infinity : skip + limit;
    const matches: T[] = [];
    for (const doc of candidates) {
      if (test(doc)) matches.push(doc);
      if (matches.length >= wanted) break;
    }
    return matches.slice(skip);
  }

  if (sortKeys.length === 1 && sortKeys[0] === '_id') {
    const direction = (options.sort as Record<string, number>)._id === -1 ? -1 : 1;
    const before = (a: string, b: string) => (direction === 1 ? a < b : a > b);
    const k = limit === undefined ? Infinity : skip + limit;
    // `best` stays sorted in result order and holds at most k documents.
    const best: T[] = [];
    for (const doc of candidates) {
      const id = doc._id;
      if (typeof id !== 'string') return undefined;
      if (best.length >= k && !before(id, best[best.length - 1]._id)) continue;
      if (!test(doc)) continue;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(best[mid]._id, id)) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, doc);
      if (best.length > k) best.pop();
    }
    return best.slice(skip, limit === undefined ? undefined : skip + limit);
  }

  const matches: T[] = [];
  for (const doc of candidates) if (test(doc)) matches.push(doc);
  return runQuery(compileMingo({}), matches, options);
}
