/**
 * Search interactions (FHIR http.html#search, search.html): type level (GET /Type?…, POST
 * /Type/_search), system level (GET /?_type=…, POST /_search) and Patient compartment
 * (GET /Patient/{id}/{type}, /Patient/{id}/*). src/search does the work; this module turns its result
 * into a searchset Bundle whose links carry the whole original query.
 */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { notSupported, outcome } from '../fhir/outcome';
import type { SearchInput, SearchResult } from '../search/service';
import { absoluteUrl, withParams } from './links';
import { preferences } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

const CURSOR = '_cursor';

async function run(ctx: RequestContext, req: FhirRequest, path: string, input: Omit<SearchInput, 'query' | 'baseUrl' | 'strict' | 'session'>): Promise<FhirResponse> {
  const search = ctx.services.search;
  if (!search) throw notSupported('Search is not available on this server');
  const result = await search.search({
    ...input,
    query: req.query,
    baseUrl: ctx.baseUrl,
    strict: preferences(req).handling === 'strict',
    session: req.session,
  });
  return { status: 200, headers: {}, body: searchset(ctx, req, path, result) };
}

function searchset(ctx: RequestContext, req: FhirRequest, path: string, result: SearchResult): Bundle {
  // POST _search answers with the equivalent GET URLs
  const linkPath = path.replace(/(^|\/)_search$/, '');
  const page = (cursor: string | undefined) => absoluteUrl(ctx, linkPath, withParams(req.query, { [CURSOR]: cursor }));
  const link: BundleLink[] = [
    { relation: 'self', url: absoluteUrl(ctx, linkPath, req.query) },
    { relation: 'first', url: page(undefined) },
  ];
  if (result.previous) link.push({ relation: 'previous', url: page(result.previous) });
  if (result.next) link.push({ relation: 'next', url: page(result.next) });
  const entry: BundleEntry[] = [
    ...result.matches.map((r) => entryOf(ctx, r, 'match')),
    ...result.included.map((r) => entryOf(ctx, r, 'include')),
  ];
  if (result.issues.length) entry.push({ resource: outcome(result.issues), search: { mode: 'outcome' } });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  if (result.total !== undefined) bundle.total = result.total;
  return { ...bundle, link, entry };
}

function entryOf(ctx: RequestContext, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
}

export async function searchType(ctx: RequestContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  return run(ctx, req, req.segments.join('/'), { types: [type] });
}

export async function searchSystem(ctx: RequestContext, req: FhirRequest): Promise<FhirResponse> {
  return run(ctx, req, req.segments.join('/'), {});
}

export async function searchCompartment(
  ctx: RequestContext,
  req: FhirRequest,
  compartment: { type: string; id: string },
  type: string,
): Promise<FhirResponse> {
  return run(ctx, req, req.segments.join('/'), { types: type === '*' ? undefined : [type], compartment });
}
