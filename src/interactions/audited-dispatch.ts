/**
 * The entry point of a top-level request: dispatches it with its audit record on the context, and
 * closes the record with the outcome, success or failure. Bundle entries are dispatched inside it
 * and share the record.
 */
import { isFhirError } from '../fhir/outcome';
import { dispatch } from './dispatch';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export async function dispatchAudited(ctx: RequestContext, req: FhirRequest): Promise<FhirResponse> {
  const audit = ctx.services.audit?.begin(ctx.security, req);
  if (!audit) return dispatch(ctx, req);
  ctx.audit = audit;
  try {
    const response = await dispatch(ctx, req);
    audit.finish(response.status);
    return response;
  } catch (error) {
    if (isFhirError(error)) audit.finish(error.status, error.outcome.issue?.[0]?.diagnostics);
    else audit.finish(500, 'Internal server error');
    throw error;
  }
}
