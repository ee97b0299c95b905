/**
 * batch: every entry on its own, each with its own outcome; nothing is atomic (http.html#transaction).
 *
 * Group commit: on an engine with savepoints (embedded), the entries run in order inside one storage
 * transaction, each behind a savepoint. An entry that fails is rolled back to its savepoint and
 * answered with its error; the others commit together, in one durable write instead of one each.
 * The response is sent only after that commit, so durability is what it was: every entry answered
 * as stored is on disk. If the commit itself fails, no entry was stored, and each is answered with
 * that failure. Entries that call an operation may open transactions of their own (which would wait
 * for this one), so a batch holding any runs entry by entry, as does every batch on MongoDB.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { StorageSession } from '../../storage/port';
import type { FhirRequest, FhirResponse, RequestContext } from '../types';
import { type BundleRequestEntry, readEntry } from './bundle-entries';
import { failureEntry, successEntry } from './entry-response';
import { prevalidateEntries } from './prevalidation';

export type Dispatch = (ctx: RequestContext, req: FhirRequest) => Promise<FhirResponse>;

type ReadEntry = BundleRequestEntry | { error: unknown };

export async function processBatch(ctx: RequestContext, req: FhirRequest, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  // An entry that cannot be read fails on its own; the others are validated together, then run in order.
  const read: ReadEntry[] = (bundle.entry ?? []).map((entry, index) => {
    try {
      return readEntry(ctx, entry, index, req);
    } catch (error) {
      return { error };
    }
  });
  const readable = read.filter((r): r is BundleRequestEntry => !('error' in r));
  prevalidateEntries(ctx, readable, 'batch');
  const entries = readable.length > 1 && readable.every(isPlainInteraction) ? await inOneCommit(ctx, read, dispatch) : await oneByOne(ctx, read, dispatch);
  const response: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: entries };
  return { status: 200, headers: {}, body: response };
}

/** Create, read, update, patch, delete, search, history: no operation ($name), which may open its own transaction. */
const isPlainInteraction = (entry: BundleRequestEntry): boolean => !entry.request.segments.some((s) => s.startsWith('$'));

async function oneByOne(ctx: RequestContext, read: ReadEntry[], dispatch: Dispatch): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  for (const planned of read) {
    try {
      if ('error' in planned) throw planned.error;
      entries.push(successEntry(await dispatch(ctx, planned.request)));
    } catch (error) {
      entries.push(failureEntry(error));
    }
  }
  return entries;
}

async function inOneCommit(ctx: RequestContext, read: ReadEntry[], dispatch: Dispatch): Promise<BundleEntry[]> {
  let grouped = false;
  try {
    return await ctx.services.repository.engine.withTransaction(async (session) => {
      if (!session.savepoint || !session.rollbackTo) return undefined;
      grouped = true;
      return runInSession(ctx, read, dispatch, session);
    }).then((entries) => entries ?? oneByOne(ctx, read, dispatch));
  } catch (error) {
    // The commit failed (disk full, I/O error): nothing of the batch is stored; every entry says so.
    if (!grouped) throw error;
    return read.map(() => failureEntry(error));
  }
}

async function runInSession(ctx: RequestContext, read: ReadEntry[], dispatch: Dispatch, session: StorageSession): Promise<BundleEntry[]> {
  const savepoint = session.savepoint as () => number;
  const rollbackTo = session.rollbackTo as (mark: number) => void;
  const entries: BundleEntry[] = [];
  for (const planned of read) {
    const mark = savepoint.call(session);
    const auditMark = ctx.audit?.writesMark(session) ?? 0;
    try {
      if ('error' in planned) throw planned.error;
      entries.push(successEntry(await dispatch(ctx, { ...planned.request, session })));
    } catch (error) {
      rollbackTo.call(session, mark);
      ctx.audit?.forgetWritesAfter(session, auditMark);
      entries.push(failureEntry(error));
    }
  }
  return entries;
}
