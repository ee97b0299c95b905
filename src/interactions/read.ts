/** read and vread (FHIR http.html#read, #vread). */
import { badRequest } from '../fhir/outcome';
import { ifNoneMatchHits, notModifiedSince } from './preconditions';
import { resourceHeaders } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export async function read(ctx: RequestContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const { resource } = await ctx.services.repository.read(type, id, req.session);
  const headers = resourceHeaders(resource);
  if (
    ifNoneMatchHits(req.headers['if-none-match'], resource.meta?.versionId) ||
    (!req.headers['if-none-match'] && notModifiedSince(req.headers['if-modified-since'], resource.meta?.lastUpdated))
  ) {
    return { status: 304, headers };
  }
  return { status: 200, headers, body: resource };
}

export async function vread(
  ctx: RequestContext,
  _req: FhirRequest,
  type: string,
  id: string,
  versionId: string,
): Promise<FhirResponse> {
  if (!/^\d+$/.test(versionId)) throw badRequest(`Version id must be a positive integer, got ${JSON.stringify(versionId)}`);
  const version = await ctx.services.repository.vread(type, id, Number(versionId));
  const resource = version.resource!;
  return { status: 200, headers: resourceHeaders(resource), body: resource };
}
