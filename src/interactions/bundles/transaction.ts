/**
 * transaction: all entries succeed together or nothing is kept (http.html#transaction). First,
 * outside the write lock, the entries are read and the validation of their bodies is started.
 * Then, inside one storage transaction, we assign every new resource its id, resolve placeholder and conditional
 * references, rewrite the references, then process DELETE, POST, PUT/PATCH and GET in that order.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { payloadTooLarge } from '../../fhir/outcome';
import { newResourceId } from '../../repository/resource-ids';
import type { StorageSession } from '../../storage/port';
import { findMatches, lockCondition, parseQueryString } from '../conditional';
import type { FhirRequest, FhirResponse, RequestContext } from '../types';
import type { Dispatch } from './batch';
import { atEntry, type BundleRequestEntry, entryError, readEntry } from './bundle-entries';
import { successEntry } from './entry-response';
import { prevalidateEntries } from './prevalidation';
import { isConditionalReference, isPlaceholder, referencesIn, rewriteReferences } from './references';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export async function processTransaction(
  ctx: RequestContext,
  req: FhirRequest,
  bundle: Bundle,
  dispatch: Dispatch,
): Promise<FhirResponse> {
  const entries = prepareTransaction(ctx, req, bundle);
  // The storage engine may run this more than once (MongoDB retries transient conflicts), so it
  // derives everything afresh from the entries and mutates nothing it was given.
  return ctx.services.repository.engine.withTransaction((session) => runTransaction(ctx, entries, dispatch, session));
}

/** What can be done before the write lock: reading the entries, and starting their validation. */
export function prepareTransaction(ctx: RequestContext, req: FhirRequest, bundle: Bundle): readonly BundleRequestEntry[] {
  const limit = ctx.services.config.maxTransactionEntries;
  if ((bundle.entry?.length ?? 0) > limit) {
    throw payloadTooLarge(
      `A transaction may hold at most ${limit} entries (it has ${bundle.entry?.length}): all of them commit as one storage transaction. ` +
        'Send larger sets as a batch, or as several transactions.',
    );
  }
  const entries = (bundle.entry ?? []).map((entry, index) => readEntry(ctx, entry, index, req));
  assertDistinctFullUrls(entries);
  prevalidateEntries(ctx, entries, 'transaction');
  return entries;
}

/**
 * Processes prepared transaction entries inside a storage transaction the caller owns, so that an
 * operation such as $smp-submit can add its own writes to the same atomic unit.
 */
export async function runTransaction(
  ctx: RequestContext,
  entries: readonly BundleRequestEntry[],
  dispatch: Dispatch,
  session: StorageSession,
): Promise<FhirResponse & { body: Bundle }> {
  const replacements = new Map<string, string>();
  const requests = new Map<number, FhirRequest>();
  for (const entry of entries) requests.set(entry.index, await identify(ctx, entry, session, replacements));
  await resolveConditionalReferences(ctx, entries, session, replacements);
  assertDistinctTargets(entries, requests);

  const results: BundleEntry[] = new Array(entries.length);
  const ordered = [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index);
  for (const entry of ordered) {
    const request = requests.get(entry.index) as FhirRequest;
    if (request.bodyKind === 'resource') request.body = rewriteReferences(request.body, replacements);
    try {
      results[entry.index] = successEntry(await dispatch(ctx, { ...request, session }));
    } catch (error) {
      throw atEntry(error, entry);
    }
  }
  const response: Bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: results };
  return { status: 200, headers: {}, body: response };
}

/**
 * Decides which resource each POST and PUT entry will write, so references to its placeholder
 * fullUrl can be rewritten before anything is written.
 */
async function identify(
  ctx: RequestContext,
  entry: BundleRequestEntry,
  session: StorageSession,
  replacements: Map<string, string>,
): Promise<FhirRequest> {
  const request: FhirRequest = { ...entry.request, segments: [...entry.request.segments] };
  const [type] = request.segments;
  if (entry.method === 'POST' && request.segments.length === 1) {
    let id: string = newResourceId();
    const condition = request.headers['if-none-exist'];
    if (condition) {
      // The same lock as a standalone conditional create: on MongoDB, two concurrent Bundles with
      // this condition then conflict, and the retried one sees the other's resource.
      await lockCondition(ctx, type, parseQueryString(condition), session);
      const matches = await findMatches(ctx, type, parseQueryString(condition), 2, session);
      if (matches.length > 1) throw entryError(entry.index, 412, `ifNoneExist "${condition}" matches ${matches.length} ${type} resources`);
      if (matches.length === 1) id = matches[0].id as string;
    }
    request.assignedId = id;
    if (isPlaceholder(entry.fullUrl)) replacements.set(entry.fullUrl, `${type}/${id}`);
  } else if (entry.method === 'PUT' && request.segments.length === 1 && request.query.length > 0) {
    // A conditional update becomes a plain update of the resource it resolves to, under the
    // standalone path's condition lock (see above).
    await lockCondition(ctx, type, request.query, session);
    const matches = await findMatches(ctx, type, request.query, 2, session);
    if (matches.length > 1) throw entryError(entry.index, 412, `the conditional update matches ${matches.length} ${type} resources`);
    const body = request.body as Resource;
    const id = (matches[0]?.id ?? body.id ?? newResourceId()) as string;
    request.segments = [type, id];
    request.query = [];
    request.body = { ...body, id };
    if (isPlaceholder(entry.fullUrl)) replacements.set(entry.fullUrl, `${type}/${id}`);
  } else if (entry.method === 'PUT' && request.segments.length === 2 && isPlaceholder(entry.fullUrl)) {
    replacements.set(entry.fullUrl, `${type}/${request.segments[1]}`);
  }
  return request;
}

async function resolveConditionalReferences(
  ctx: RequestContext,
  entries: readonly BundleRequestEntry[],
  session: StorageSession,
  replacements: Map<string, string>,
): Promise<void> {
  for (const entry of entries) {
    if (entry.request.bodyKind !== 'resource') continue;
    for (const reference of referencesIn(entry.request.body)) {
      if (replacements.has(reference) || !isConditionalReference(reference)) continue;
      const at = reference.indexOf('?');
      const type = reference.slice(0, at);
      const matches = await findMatches(ctx, type, parseQueryString(reference.slice(at + 1)), 2, session);
      if (matches.length === 0) throw entryError(entry.index, 404, `the conditional reference ${reference} matches no resource`);
      if (matches.length > 1) throw entryError(entry.index, 412, `the conditional reference ${reference} matches ${matches.length} resources; it must match exactly one`);
      replacements.set(reference, `${type}/${matches[0].id}`);
    }
  }
}

function assertDistinctFullUrls(entries: readonly BundleRequestEntry[]): void {
  const seen = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.fullUrl) continue;
    const first = seen.get(entry.fullUrl);
    if (first !== undefined) throw entryError(entry.index, 400, `fullUrl ${entry.fullUrl} is also used by entry ${first}`);
    seen.set(entry.fullUrl, entry.index);
  }
}

/** Two entries may not write the same resource: the result would depend on processing order. */
function assertDistinctTargets(entries: readonly BundleRequestEntry[], requests: Map<number, FhirRequest>): void {
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const request = requests.get(entry.index) as FhirRequest;
    let target: string | undefined;
    if (entry.method !== 'GET' && entry.method !== 'HEAD' && request.segments.length === 2) target = request.segments.join('/');
    if (entry.method === 'POST' && request.assignedId) target = `${request.segments[0]}/${request.assignedId}`;
    if (!target) continue;
    const first = seen.get(target);
    if (first !== undefined) throw entryError(entry.index, 400, `${target} is also the target of entry ${first}; each resource may appear once`);
    seen.set(target, entry.index);
  }
}
