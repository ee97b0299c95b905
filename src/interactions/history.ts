/**
 * history at instance, type and system level (FHIR http.html#history).
 *
 * Polling: every answer lists only versions written before its horizon, the instant it gives as
 * Bundle.meta.lastUpdated, and the storage engine's history clock guarantees that no version can
 * appear later with a timestamp below a horizon already answered (port.ts HistoryClock). A client
 * that polls `_history?_since=` with the previous answer's meta.lastUpdated (after following its
 * `next` links) therefore sees every version exactly once, however writes interleave.
 *
 * Paging: `next` links carry the first page's horizon and a keyset cursor (the last version's
 * timestamp and id), so later pages neither shift with new writes nor skip or count what came before.
 * `total` is given for instance history only; FHIR makes it optional for history, and counting a
 * type's or the system's versions would cost as much as reading them.
 */
import type { Bundle, BundleEntry, BundleLink } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome';
import type { HistoryCursor } from '../repository/repository';
import type { HistoryDocument } from '../storage/collections';
import { absoluteUrl, withParams } from './links';
import { versionTag } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

/** Opaque paging parameters of our own: the first page's horizon, and where the page starts. */
const UNTIL = '_until';
const AFTER = '_after';
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const CURSOR = /^(\d{1,16})~(.+)$/;

function single(req: FhirRequest, name: string): string | undefined {
  const values = req.query.filter(([k]) => k === name).map(([, v]) => v);
  if (values.length > 1) throw badRequest(`${name} may be given only once`, name);
  return values[0];
}

function nonNegative(req: FhirRequest, name: string): number | undefined {
  const raw = single(req, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`, name);
  return Number(raw);
}

function cursor(req: FhirRequest): HistoryCursor | undefined {
  const raw = single(req, AFTER);
  if (raw === undefined) return undefined;
  const match = CURSOR.exec(raw);
  if (!match) throw badRequest(`${AFTER} is a paging cursor from a next link; ${JSON.stringify(raw)} is not one`, AFTER);
  return { ts: Number(match[1]), id: match[2] };
}

export async function history(
  ctx: RequestContext,
  req: FhirRequest,
  scope: { type?: string; id?: string },
): Promise<FhirResponse> {
  const sinceRaw = single(req, '_since');
  if (sinceRaw !== undefined && (!INSTANT.test(sinceRaw) || Number.isNaN(Date.parse(sinceRaw)))) {
    throw badRequest(`_since must be an instant with a time zone, e.g. 2024-01-01T00:00:00Z; got ${JSON.stringify(sinceRaw)}`, '_since');
  }
  const { defaultCount, maxCount } = ctx.services.config.search;
  const count = Math.min(nonNegative(req, '_count') ?? defaultCount, maxCount);
  const until = nonNegative(req, UNTIL);
  const after = cursor(req);
  if (scope.id) await ctx.services.repository.read(scope.type as string, scope.id).catch((error) => {
    if (error?.status !== 410) throw error; // the history of a deleted resource is still served
  });

  const page = await ctx.services.repository.historyPage({
    ...scope,
    since: sinceRaw ? Date.parse(sinceRaw) : undefined,
    until,
    after,
    count,
  });

  const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
  const pinned = (changes: Record<string, string | undefined>) =>
    absoluteUrl(ctx, path, withParams(req.query, { [UNTIL]: String(page.horizon), _count: String(count), ...changes }));
  const link: BundleLink[] = [
    { relation: 'self', url: absoluteUrl(ctx, path, req.query) },
    { relation: 'first', url: pinned({ [AFTER]: undefined }) },
  ];
  if (page.next) link.push({ relation: 'next', url: pinned({ [AFTER]: `${page.next.ts}~${page.next.id}` }) });

  const bundle: Bundle = {
    resourceType: 'Bundle',
    // Where a poller resumes: `_since=` this instant lists exactly the versions this answer could not.
    meta: { lastUpdated: new Date(page.horizon).toISOString() },
    type: 'history',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link,
    entry: page.versions.map((v) => historyEntry(ctx, v)),
  };
  return { status: 200, headers: {}, body: bundle };
}

function historyEntry(ctx: RequestContext, version: HistoryDocument): BundleEntry {
  const fullUrl = `${ctx.baseUrl}/${version.type}/${version.rid}`;
  const lastModified = new Date(version.ts).toISOString();
  const created = version.vid === 1 || version.method === 'POST';
  const entry: BundleEntry = {
    fullUrl,
    request: {
      method: version.method,
      url: version.method === 'POST' ? version.type : `${version.type}/${version.rid}`,
    },
    response: {
      status: version.method === 'DELETE' ? '204 No Content' : created ? '201 Created' : '200 OK',
      etag: versionTag(version.vid),
      lastModified,
    },
  };
  if (version.resource) entry.resource = version.resource;
  return entry;
}
