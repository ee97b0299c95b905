/**
 * Validation of a Bundle's entries, started before they are processed: all together, so that
 * validation workers check them in parallel with everything else; for a transaction before it takes
 * the write lock, so that its validation overlaps other transactions' writes and its own. Each entry
 * waits for its own result only when it is processed.
 *
 * Only the writes whose body reaches storage as given are validated here: type-level POST (create)
 * and instance-level PUT (update). A conditional update's body and a PATCH's result are known only
 * inside the transaction, and are validated there.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { RequestContext, ValidationRequest } from '../types';
import type { BundleRequestEntry } from './bundle-entries';
import { isPlaceholder, rewriteReferences } from './references';

/**
 * Sets `request.validated` on every entry it validates. In a transaction, a reference to another
 * entry's placeholder fullUrl is checked as a reference to that entry's resource type, as it will
 * be once the server assigns the id.
 */
export function prevalidateEntries(ctx: RequestContext, entries: BundleRequestEntry[], kind: 'batch' | 'transaction'): void {
  const placeholders = kind === 'transaction' ? placeholderTargets(entries) : new Map<string, string>();
  const chosen: BundleRequestEntry[] = [];
  const items: Array<{ resource: Resource; options: ValidationRequest }> = [];
  for (const entry of entries) {
    const mode = validationMode(entry);
    if (!mode) continue;
    const body = entry.request.body as Resource;
    // A create ignores the client's id, as create() does.
    const { id: _ignored, ...withoutId } = body;
    const checked = mode === 'create' ? (withoutId as Resource) : body;
    chosen.push(entry);
    items.push({ resource: rewriteReferences(checked, placeholders), options: { mode } });
  }
  const outcomes = ctx.services.validator.validateEach(items);
  chosen.forEach((entry, i) => {
    // A transaction that fails early never awaits its later entries: their failures are not news.
    outcomes[i].catch(() => undefined);
    entry.request.validated = outcomes[i];
  });
}

function validationMode(entry: BundleRequestEntry): 'create' | 'update' | undefined {
  const { bodyKind, segments, query, body } = entry.request;
  if (bodyKind !== 'resource' || (body as Resource).resourceType !== segments[0]) return undefined;
  if (entry.method === 'POST' && segments.length === 1) return 'create';
  if (entry.method === 'PUT' && segments.length === 2 && query.length === 0) return 'update';
  return undefined;
}

/** Placeholder fullUrl -> a reference of the type the entry will create: "Patient/placeholder". */
function placeholderTargets(entries: BundleRequestEntry[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const entry of entries) {
    if (!isPlaceholder(entry.fullUrl) || (entry.method !== 'POST' && entry.method !== 'PUT')) continue;
    const type = entry.request.segments[0];
    if (type) targets.set(entry.fullUrl, `${type}/${entry.request.segments[1] ?? 'placeholder'}`);
  }
  return targets;
}
