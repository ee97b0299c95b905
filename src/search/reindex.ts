/**
 * Re-indexing at start: documents written before search was wired, or under another index version
 * (a changed custom SearchParameter, a new `sp` format), get fresh `sp` and `sk`. The resource and its
 * version are untouched, so no history is written; a concurrent update simply wins (compare-and-set).
 * A marker document remembers the version the whole store was indexed with, so an up-to-date store
 * costs one read at start rather than a scan of every collection.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ResourceRepository } from '../repository/repository';
import type { Filter } from '../storage/port';
import type { ResourceIndexer } from './indexer';

const BATCH = 500;
const MARKER_COLLECTION = 'search_index';
const MARKER_ID = 'version';

interface Marker {
  _id: string;
  v: string;
}

/** Re-indexes every stale current version of `types`; returns how many documents it rewrote. */
export async function reindexStale(repository: ResourceRepository, indexer: ResourceIndexer, types: Iterable<string>): Promise<number> {
  const markers = repository.engine.collection<Marker>(MARKER_COLLECTION);
  if ((await markers.findOne({ _id: MARKER_ID }))?.v === indexer.version) return 0;
  let rewritten = 0;
  for (const type of types) {
    const collection = await repository.collection(type);
    const stale: Filter = { deleted: { $ne: true }, 'sk.v': { $ne: indexer.version } };
    // A page at a time, in _id order: a store of millions must not be read into memory at once.
    for (let after = ''; ; ) {
      const batch = await collection.find({ $and: [stale, { _id: { $gt: after } }] }, { sort: { _id: 1 }, limit: BATCH });
      if (batch.length === 0) break;
      after = batch[batch.length - 1]._id;
      await repository.engine.withTransaction(async (session) => {
        for (const doc of batch) {
          const fresh = { ...doc, ...indexer.index(doc.resource as Resource) };
          const result = await collection.replaceOne({ _id: doc._id, vid: doc.vid }, fresh, { session });
          rewritten += result.matchedCount;
        }
      });
    }
  }
  await markers.replaceOne({ _id: MARKER_ID }, { _id: MARKER_ID, v: indexer.version }, { upsert: true });
  return rewritten;
}
