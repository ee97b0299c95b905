/**
 * batch and transaction (FHIR http.html#transaction). Placeholder until the bundle processor
 * lands: answers 501 rather than pretending.
 */
import { notSupported } from '../fhir/outcome';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export type Dispatch = (ctx: RequestContext, req: FhirRequest) => Promise<FhirResponse>;

/** Whether batch and transaction are implemented; the CapabilityStatement reads it. */
export const BUNDLE_FEATURES = { transaction: false, batch: false };

export async function processBundle(_ctx: RequestContext, _req: FhirRequest, _dispatch: Dispatch): Promise<FhirResponse> {
  throw notSupported('Batch and transaction Bundles are not implemented yet');
}
