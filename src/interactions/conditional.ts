/**
 * Shared machinery of conditional create, update and delete: finding the matches, and a lock
 * document that makes "search, then write" atomic against a concurrent identical request.
 */
import type { Resource } from '@medplum/fhirtypes';
import { notSupported } from '../fhir/outcome';
import type { StorageEngine, StorageSession } from '../storage/port';
import type { RequestContext } from './types';

const LOCK_COLLECTION = 'conditional_locks';

export function parseQueryString(query: string): Array<[string, string]> {
  return [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)];
}

export async function findMatches(
  ctx: RequestContext,
  type: string,
  query: Array<[string, string]>,
  limit: number,
  session?: StorageSession,
): Promise<Resource[]> {
  const search = ctx.services.search;
  if (!search) throw notSupported('Conditional interactions need search, which is not available');
  return search.findMatches(type, query, { limit, session });
}

/**
 * Writes a lock document named after the condition inside the transaction. MongoDB aborts one of two
 * concurrent transactions that write the same document, and the retry then sees the other's result;
 * the embedded engine already runs one transaction at a time.
 */
export async function lockCondition(
  ctx: RequestContext,
  type: string,
  query: Array<[string, string]>,
  session: StorageSession,
): Promise<void> {
  const key = `${type}?${[...query]
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&')}`;
  const locks = ctx.services.repository.engine.collection<ConditionLock>(LOCK_COLLECTION);
  await locks.replaceOne({ _id: key }, { _id: key, ts: Date.now(), at: new Date() }, { upsert: true, session });
}

interface ConditionLock {
  _id: string;
  ts: number;
  /** A Date, for MongoDB's TTL index: a lock only matters while its transaction runs. */
  at: Date;
}

/** Seconds a condition lock document is kept: far longer than any transaction may run. */
const LOCK_TTL_SECONDS = 24 * 60 * 60;

/** At start-up: lock documents expire (on MongoDB), so one per distinct condition does not pile up forever. */
export async function prepareConditionLocks(engine: StorageEngine): Promise<void> {
  await engine.collection<ConditionLock>(LOCK_COLLECTION).createIndex({ at: 1 }, { expireAfterSeconds: LOCK_TTL_SECONDS });
}

/** Runs `work` in the request's transaction, or in a new one. */
export async function inTransaction<R>(
  ctx: RequestContext,
  session: StorageSession | undefined,
  work: (session: StorageSession) => Promise<R>,
): Promise<R> {
  return session ? work(session) : ctx.services.repository.engine.withTransaction(work);
}
