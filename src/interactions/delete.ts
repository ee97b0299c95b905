/** delete and conditional delete (FHIR http.html#delete, #cdelete). */
import { isValidId } from '../fhir/ids';
import { badRequest, informational, preconditionFailed } from '../fhir/outcome';
import { findMatches, inTransaction } from './conditional';
import { parseIfMatch, } from './preconditions';
import { versionTag } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

/** Takes `count` deletions from the request's budget (a Bundle's, shared by its entries). */
function spendDeletes(ctx: RequestContext, count: number): void {
  if (!ctx.deletes) return;
  if (count > ctx.deletes.remaining) {
    throw preconditionFailed(`This request may delete only ${ctx.deletes.remaining} more resource(s) (MAX_CONDITIONAL_DELETES per batch or transaction)`);
  }
  ctx.deletes.remaining -= count;
}

export async function deleteResource(ctx: RequestContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  // No resource can have such an id, so "nothing to delete" would hide a client's mistake.
  if (!isValidId(id)) throw badRequest(`"${id}" is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)`);
  spendDeletes(ctx, 1);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const result = await ctx.services.repository.delete(type, id, { ifMatch, session: req.session });
  const headers: Record<string, string> = result.versionId ? { ETag: versionTag(result.versionId) } : {};
  const message = result.deleted ? `Deleted ${type}/${id}` : `${type}/${id} does not exist; nothing to delete`;
  return { status: 200, headers, body: informational(message) };
}

export async function conditionalDelete(ctx: RequestContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const max = ctx.services.config.maxConditionalDeletes;
  return inTransaction(ctx, req.session, async (session) => {
    const matches = await findMatches(ctx, type, req.query, max + 1, session);
    if (matches.length > max) {
      throw preconditionFailed(`The conditional delete matches more than ${max} ${type} resources; narrow the criteria`);
    }
    spendDeletes(ctx, matches.length);
    for (const match of matches) await ctx.services.repository.delete(type, match.id as string, { session });
    const message = matches.length === 0 ? `No ${type} matched; nothing deleted` : `Deleted ${matches.length} ${type} resource(s)`;
    return { status: 200, headers: {}, body: informational(message) };
  });
}
