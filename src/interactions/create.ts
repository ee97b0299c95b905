/** create and conditional create (FHIR http.html#create, #ccreate). */
import { preconditionFailed } from '../fhir/outcome';
import { findMatches, inTransaction, lockCondition, parseQueryString } from './conditional';
import { requireResource, validateWithWarnings } from './resource-body';
import { resourceHeaders, writeResponse } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export async function create(ctx: RequestContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const body = requireResource(req, type);
  const { id: _ignored, ...withoutId } = body;
  const { resource, warnings } = await validateWithWarnings(ctx, withoutId as typeof body, 'create', req.validated);
  const condition = req.headers['if-none-exist'];
  if (!condition) {
    const { resource: stored } = await ctx.services.repository.create(resource, { session: req.session, id: req.assignedId });
    return writeResponse(req, ctx, 201, stored, `Created ${type}/${stored.id}`, warnings);
  }

  const query = parseQueryString(condition);
  return inTransaction(ctx, req.session, async (session) => {
    await lockCondition(ctx, type, query, session);
    const matches = await findMatches(ctx, type, query, 2, session);
    if (matches.length > 1) {
      throw preconditionFailed(`If-None-Exist "${condition}" matches ${matches.length} ${type} resources; it must match at most one`);
    }
    if (matches.length === 1) {
      const existing = matches[0];
      const response = writeResponse(req, ctx, 200, existing, `${type}/${existing.id} already matches "${condition}"; nothing created`);
      return { ...response, headers: { ...response.headers, ...resourceHeaders(existing) } };
    }
    const { resource: stored } = await ctx.services.repository.create(resource, { session, id: req.assignedId });
    return writeResponse(req, ctx, 201, stored, `Created ${type}/${stored.id}`, warnings);
  });
}
