/**
 * Stores import items through the API's own path (the dispatcher: validation, indexing, versioning,
 * the access policy and audit), as an operator's client. Every write is an update-as-create with a
 * known id, so a re-run finds what an interrupted run stored:
 * - a resource keeps its id, or gets one derived from its content;
 * - a transaction or batch entry that POSTs without a condition gets an id derived from its Bundle
 *   and position, and becomes a PUT (its urn:uuid fullUrl still resolves to it);
 * - what is already stored with the same content is skipped, not written again as a new version.
 */
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FhirError, isFhirError } from '../../fhir/outcome';
import { rewriteReferences } from '../../interactions/bundles/references';
import { dispatch } from '../../interactions/dispatch';
import type { FhirResponse, RequestContext } from '../../interactions/types';
import { contentId, type ImportItem } from './sources';
import { sameContent } from './same-content';

export interface ItemResult {
  loaded: number;
  unchanged: number;
  /** One OperationOutcome per resource (or Bundle) that could not be stored. */
  failures: OperationOutcome[];
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

function failure(item: ImportItem, issues: OperationOutcome['issue'], where = ''): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics: `${item.file} line ${item.line}${where}` }, ...issues],
  };
}

function outcomeOf(error: unknown): OperationOutcome['issue'] {
  if (isFhirError(error)) return error.outcome.issue;
  return [{ severity: 'error', code: 'exception', diagnostics: error instanceof Error ? error.message : String(error) }];
}

export class ImportLoader {
  constructor(private readonly ctx: RequestContext) {}

  async load(item: ImportItem): Promise<ItemResult> {
    if (item.parseError) return { loaded: 0, unchanged: 0, failures: [failure(item, [{ severity: 'error', code: 'structure', diagnostics: item.parseError }])] };
    const json = item.json;
    if (!isObject(json) || typeof json.resourceType !== 'string') {
      return { loaded: 0, unchanged: 0, failures: [failure(item, [{ severity: 'error', code: 'structure', diagnostics: 'Not a FHIR resource: no resourceType' }])] };
    }
    const resource = json as unknown as Resource;
    if (resource.resourceType === 'Bundle' && (resource.type === 'transaction' || resource.type === 'batch')) return this.loadBundle(item, resource);
    if (resource.resourceType === 'Bundle' && resource.type === 'collection') return this.loadCollection(item, resource);
    return this.loadResource(item, resource, item.contentId);
  }

  /**
   * Plain resources, many at once: one transaction of PUTs, which validates them together on the
   * validation workers and commits once. When it fails (one invalid resource fails it whole), each
   * resource is stored on its own instead, so that every failure is reported against its line.
   */
  async loadMany(items: ImportItem[]): Promise<ItemResult> {
    const total: ItemResult = { loaded: 0, unchanged: 0, failures: [] };
    const add = (r: ItemResult) => {
      total.loaded += r.loaded;
      total.unchanged += r.unchanged;
      total.failures.push(...r.failures);
    };
    const pending: Array<{ item: ImportItem; resource: Resource & { id: string } }> = [];
    for (const item of items) {
      const json = item.json as Resource | undefined;
      if (item.parseError || !isPlainResource(json)) {
        add(await this.load(item));
        continue;
      }
      const resource = { ...json, id: json.id ?? item.contentId };
      if (await this.alreadyStored(resource)) total.unchanged++;
      else pending.push({ item, resource });
    }
    if (pending.length === 0) return total;
    try {
      await this.send('POST', [], {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: pending.map(({ resource }) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
      });
      total.loaded += pending.length;
    } catch {
      for (const { item, resource } of pending) add(await this.loadResource(item, resource, resource.id));
    }
    return total;
  }

  private async loadResource(item: ImportItem, resource: Resource, fallbackId: string, where = ''): Promise<ItemResult> {
    const id = resource.id ?? fallbackId;
    try {
      if (await this.alreadyStored({ ...resource, id })) return { loaded: 0, unchanged: 1, failures: [] };
      await this.send('PUT', [resource.resourceType, id], { ...resource, id });
      return { loaded: 1, unchanged: 0, failures: [] };
    } catch (error) {
      return { loaded: 0, unchanged: 0, failures: [failure(item, outcomeOf(error), where)] };
    }
  }

  private async loadCollection(item: ImportItem, bundle: Bundle): Promise<ItemResult> {
    const total: ItemResult = { loaded: 0, unchanged: 0, failures: [] };
    for (const [index, entry] of (bundle.entry ?? []).entries()) {
      if (!entry.resource) continue;
      const result = await this.loadResource(item, entry.resource, contentId(`${item.contentId}#${index}`), `, entry ${index}`);
      total.loaded += result.loaded;
      total.unchanged += result.unchanged;
      total.failures.push(...result.failures);
    }
    return total;
  }

  private async loadBundle(item: ImportItem, bundle: Bundle): Promise<ItemResult> {
    const entries = (bundle.entry ?? []).map((entry, index) => withKnownId(entry, `${item.contentId}#${index}`));
    const writes = entries.filter((e) => e.request?.method === 'PUT' && e.resource);
    if (writes.length === entries.length && (await this.allStored(entries))) return { loaded: 0, unchanged: writes.length, failures: [] };
    try {
      const response = await this.send('POST', [], { ...bundle, entry: entries });
      const results = ((response.body as Bundle | undefined)?.entry ?? []).map((e) => e.response);
      const failures: OperationOutcome[] = [];
      results.forEach((result, index) => {
        if (result && !/^2/.test(result.status)) {
          const issues = (result.outcome as OperationOutcome | undefined)?.issue ?? [{ severity: 'error', code: 'processing', diagnostics: result.status }];
          failures.push(failure(item, issues, `, entry ${index}`));
        }
      });
      return { loaded: results.length - failures.length, unchanged: 0, failures };
    } catch (error) {
      return { loaded: 0, unchanged: 0, failures: [failure(item, outcomeOf(error))] };
    }
  }

  /** True when every entry's resource is stored already, with its references resolved as the transaction would. */
  private async allStored(entries: BundleEntry[]): Promise<boolean> {
    const replacements = new Map<string, string>();
    for (const e of entries) if (e.fullUrl && e.request?.url) replacements.set(e.fullUrl, e.request.url);
    for (const e of entries) {
      const resource = rewriteReferences(e.resource as Resource, replacements);
      const id = e.request?.url?.split('/')[1];
      if (!id || !(await this.alreadyStored({ ...resource, id }))) return false;
    }
    return true;
  }

  private async alreadyStored(resource: Resource & { id: string }): Promise<boolean> {
    const stored = await this.ctx.services.repository.read(resource.resourceType, resource.id).catch(() => null);
    return !!stored?.resource && sameContent(stored.resource, resource);
  }

  private async send(method: string, segments: string[], body: Resource): Promise<FhirResponse> {
    const response = await dispatch(this.ctx, { method, segments, query: [], headers: { prefer: 'return=minimal' }, body, bodyKind: 'resource' });
    if (response.status >= 400) throw new FhirError(response.status, (response.body as OperationOutcome | undefined) ?? { resourceType: 'OperationOutcome', issue: [] });
    return response;
  }
}

/** A resource that is stored as it is (not a Bundle to process). */
export function isPlainResource(json: unknown): json is Resource {
  return isObject(json) && typeof json.resourceType === 'string' && json.resourceType !== 'Bundle';
}

/** A POST without a condition becomes a PUT to an id derived from the Bundle and the entry's place in it. */
function withKnownId(entry: BundleEntry, seed: string): BundleEntry {
  const request = entry.request;
  if (request?.method !== 'POST' || request.ifNoneExist || !entry.resource) return entry;
  const type = entry.resource.resourceType;
  if (!/^[A-Za-z]+$/.test(request.url.replace(/\/$/, '')) || request.url.replace(/\/$/, '') !== type) return entry;
  const id = contentId(seed);
  return { ...entry, resource: { ...entry.resource, id }, request: { ...request, method: 'PUT', url: `${type}/${id}` } };
}
