/**
 * The Bundle rules R4 states in prose rather than as invariants (the bdl-* invariants themselves run
 * with the other constraints). From R4 bundle.html and Bundle.entry.fullUrl's definition:
 * - fullUrl is absolute: a URL with a scheme, a urn:uuid or a urn:oid (R4 datatypes.html: uuid and oid);
 * - unless it is a urn:uuid or urn:oid, it does not disagree with the resource's id: it ends with
 *   [type]/[id];
 * - every entry of a searchset that holds a resource says why it is there (search.mode);
 * - a document is self-contained (R4 documents.html): every reference in it resolves to one of its
 *   entries, following "Resolving references in Bundles" (bundle.html#references).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { issue } from '../fhir/outcome';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i; // RFC 4122: hex is case-insensitive on input
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
/** [base/]Type/id[/_history/version], the RESTful form of a reference or a fullUrl. */
const RESTFUL = /^(.*?)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Past this many, more issues about one Bundle are noise. */
const MAX_ISSUES = 20;

/** Every literal reference in a resource, by type (not by key name: DetectedIssue.reference is a uri). */
const references = fhirpath.compile('descendants().ofType(Reference).reference', r4model);

type Entry = { fullUrl?: unknown; resource?: unknown; search?: unknown };

export function checkBundleRules(resource: Record<string, unknown>, resourceType: string): OperationOutcomeIssue[] {
  if (resourceType !== 'Bundle' || !Array.isArray(resource.entry)) return [];
  const issues: OperationOutcomeIssue[] = [];
  const entries = resource.entry as unknown[];
  entries.forEach((raw, i) => {
    if (!isObject(raw)) return;
    const entry = raw as Entry;
    const at = `Bundle.entry[${i}]`;
    if (typeof entry.fullUrl === 'string') {
      const problem = fullUrlProblem(entry.fullUrl, entry.resource);
      if (problem) issues.push(issue('error', 'invalid', problem, `${at}.fullUrl`));
    }
    if (resource.type === 'searchset' && entry.resource !== undefined && !(isObject(entry.search) && entry.search.mode !== undefined)) {
      issues.push(issue('error', 'required', 'An entry of a searchset says why it is there: search.mode (match, include or outcome)', at));
    }
  });
  if (resource.type === 'document') appendUnresolved(entries, issues);
  return issues.slice(0, MAX_ISSUES);
}

function fullUrlProblem(fullUrl: string, resource: unknown): string | undefined {
  if (fullUrl.startsWith('urn:uuid:')) return UUID.test(fullUrl) ? undefined : 'fullUrl is not a valid urn:uuid (hex digits 8-4-4-4-12)';
  if (fullUrl.startsWith('urn:oid:')) return OID.test(fullUrl) ? undefined : 'fullUrl is not a valid urn:oid';
  if (!SCHEME.test(fullUrl)) return `fullUrl must be absolute (a URL, a urn:uuid or a urn:oid), not the relative "${fullUrl}"`;
  if (fullUrl.includes('/_history/')) return undefined; // bdl-8 says what is wrong with it
  if (!isObject(resource) || typeof resource.id !== 'string' || typeof resource.resourceType !== 'string') return undefined;
  const expected = `/${resource.resourceType}/${resource.id}`;
  if (!fullUrl.endsWith(expected)) return `fullUrl disagrees with the resource's id: it must end with ${expected}`;
  return undefined;
}

/** A document's references that no entry holds. */
function appendUnresolved(entries: unknown[], issues: OperationOutcomeIssue[]): void {
  const fullUrls = new Set<string>();
  const typeIds = new Set<string>();
  for (const raw of entries) {
    if (!isObject(raw)) continue;
    if (typeof raw.fullUrl === 'string') fullUrls.add(raw.fullUrl);
    const r = raw.resource;
    if (isObject(r) && typeof r.resourceType === 'string' && typeof r.id === 'string') typeIds.add(`${r.resourceType}/${r.id}`);
  }
  entries.forEach((raw, i) => {
    if (!isObject(raw) || !isObject(raw.resource)) return;
    const base = typeof raw.fullUrl === 'string' ? RESTFUL.exec(raw.fullUrl)?.[1] : undefined;
    let found: unknown[];
    try {
      found = references(raw.resource) as unknown[]; // synchronous: no async functions in this expression
    } catch {
      return; // a resource fhirpath cannot read: the structural stage says why
    }
    for (const reference of new Set(found.filter((r): r is string => typeof r === 'string'))) {
      if (reference.startsWith('#') || resolves(reference, base, fullUrls, typeIds)) continue;
      issues.push(issue('error', 'not-found', `The reference ${reference} does not resolve inside the document: a document carries every resource it references`, `Bundle.entry[${i}].resource`));
    }
  });
}

function resolves(reference: string, base: string | undefined, fullUrls: Set<string>, typeIds: Set<string>): boolean {
  const restful = RESTFUL.exec(reference);
  const versionless = restful ? `${restful[1]}${restful[2]}/${restful[3]}` : reference;
  if (fullUrls.has(versionless)) return true;
  if (SCHEME.test(reference)) return false; // absolute: only an entry with that fullUrl resolves it
  if (!restful) return false;
  // Relative: against the entry's own base when its fullUrl is RESTful, else to any entry of that type and id.
  if (base !== undefined && fullUrls.has(`${base}${restful[2]}/${restful[3]}`)) return true;
  return typeIds.has(`${restful[2]}/${restful[3]}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
