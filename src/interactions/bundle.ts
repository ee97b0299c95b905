/** batch and transaction Bundles POSTed to the base (FHIR http.html#transaction). */
import { badRequest, preconditionFailed } from '../fhir/outcome';
import { processBatch, type Dispatch } from './bundles/batch';
import { requireBundle } from './bundles/bundle-entries';
import { processTransaction } from './bundles/transaction';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export type { Dispatch } from './bundles/batch';

/** Whether batch and transaction are implemented; the CapabilityStatement reads it. */
export const BUNDLE_FEATURES = { transaction: true, batch: true };

export async function processBundle(ctx: RequestContext, req: FhirRequest, dispatch: Dispatch): Promise<FhirResponse> {
  // An entry of a transaction runs inside its storage transaction; a nested Bundle would wait on it forever.
  if (req.session) throw badRequest('A Bundle entry may not itself be a batch or transaction');
  const bundle = requireBundle(req, ctx.services.config.maxBundleEntries);
  const max = ctx.services.config.maxConditionalDeletes;
  const deletes = (bundle.entry ?? []).filter((entry) => entry.request?.method === 'DELETE').length;
  if (deletes > max) {
    throw preconditionFailed(`The Bundle has ${deletes} DELETE entries; one request may delete at most ${max} resources (MAX_CONDITIONAL_DELETES)`);
  }
  const bundleCtx: RequestContext = { ...ctx, deletes: { remaining: max } };
  if (bundle.type === 'batch') return processBatch(bundleCtx, req, bundle, dispatch);
  return processTransaction(bundleCtx, req, bundle, dispatch);
}
