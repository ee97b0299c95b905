/** batch: every entry on its own, each with its own outcome; nothing is atomic (http.html#transaction). */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse, RequestContext } from '../types';
import { type BundleRequestEntry, readEntry } from './bundle-entries';
import { failureEntry, successEntry } from './entry-response';
import { prevalidateEntries } from './prevalidation';

export type Dispatch = (ctx: RequestContext, req: FhirRequest) => Promise<FhirResponse>;

export async function processBatch(ctx: RequestContext, req: FhirRequest, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  // An entry that cannot be read fails on its own; the others are validated together, then run in order.
  const read: Array<BundleRequestEntry | { error: unknown }> = (bundle.entry ?? []).map((entry, index) => {
    try {
      return readEntry(ctx, entry, index, req);
    } catch (error) {
      return { error };
    }
  });
  prevalidateEntries(ctx, read.filter((r): r is BundleRequestEntry => !('error' in r)), 'batch');
  const entries: BundleEntry[] = [];
  for (const planned of read) {
    try {
      if ('error' in planned) throw planned.error;
      entries.push(successEntry(await dispatch(ctx, planned.request)));
    } catch (error) {
      entries.push(failureEntry(error));
    }
  }
  const response: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: entries };
  return { status: 200, headers: {}, body: response };
}
