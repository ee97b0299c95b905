/** history at instance, type and system level (FHIR http.html#history). */
import type { Bundle, BundleEntry, BundleLink } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome';
import type { HistoryDocument } from '../storage/collections';
import { absoluteUrl, withParams } from './links';
import { versionTag } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

/** Opaque paging parameters of our own: the snapshot instant and the offset within it. */
const UNTIL = '_until';
const OFFSET = '_offset';
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function single(req: FhirRequest, name: string): string | undefined {
  const values = req.query.filter(([k]) => k === name).map(([, v]) => v);
  if (values.length > 1) throw badRequest(`${name} may be given only once`, name);
  return values[0];
}

function nonNegative(req: FhirRequest, name: string): number | undefined {
  const raw = single(req, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`, name);
  return Number(raw);
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
  const offset = nonNegative(req, OFFSET) ?? 0;
  // Later pages are pinned to the newest version the first page saw, so new writes cannot shift them.
  const pinned = nonNegative(req, UNTIL);
  if (scope.id) await ctx.services.repository.read(scope.type as string, scope.id).catch((error) => {
    if (error?.status !== 410) throw error; // the history of a deleted resource is still served
  });

  const { versions, total } = await ctx.services.repository.historyPage({
    ...scope,
    since: sinceRaw ? Date.parse(sinceRaw) : undefined,
    until: pinned,
    offset,
    count: Math.max(count, 1),
  });
  const until = pinned ?? versions[0]?.ts ?? Date.now();

  const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
  const page = (o: number) => absoluteUrl(ctx, path, withParams(req.query, { [OFFSET]: String(o), [UNTIL]: String(until), _count: String(count) }));
  const link: BundleLink[] = [
    { relation: 'self', url: absoluteUrl(ctx, path, req.query) },
    { relation: 'first', url: page(0) },
  ];
  if (offset > 0) link.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
  if (count > 0 && offset + count < total) link.push({ relation: 'next', url: page(offset + count) });
  if (count > 0 && total > 0) link.push({ relation: 'last', url: page(Math.floor((total - 1) / count) * count) });

  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link,
    entry: versions.slice(0, count).map((v) => historyEntry(ctx, v)),
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
