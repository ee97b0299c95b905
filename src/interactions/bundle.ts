/** batch and transaction Bundles POSTed to the base (FHIR http.html#transaction). */
import { badRequest } from '../fhir/outcome';
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
  if (bundle.type === 'batch') return processBatch(ctx, req, bundle, dispatch);
  return processTransaction(ctx, req, bundle, dispatch);
}
