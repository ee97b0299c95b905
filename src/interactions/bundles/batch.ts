/** batch: every entry on its own, each with its own outcome; nothing is atomic (http.html#transaction). */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse, RequestContext } from '../types';
import { readEntry } from './bundle-entries';
import { failureEntry, successEntry } from './entry-response';

export type Dispatch = (ctx: RequestContext, req: FhirRequest) => Promise<FhirResponse>;

export async function processBatch(ctx: RequestContext, req: FhirRequest, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  const entries: BundleEntry[] = [];
  for (const [index, entry] of (bundle.entry ?? []).entries()) {
    try {
      const planned = readEntry(ctx, entry, index, req);
      entries.push(successEntry(await dispatch(ctx, planned.request)));
    } catch (error) {
      entries.push(failureEntry(error));
    }
  }
  const response: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: entries };
  return { status: 200, headers: {}, body: response };
}
