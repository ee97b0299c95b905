/**
 * Reads the entries of a batch or transaction Bundle into requests the dispatcher understands,
 * checking what FHIR requires of each entry (http.html#transaction).
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, payloadTooLarge } from '../../fhir/outcome';
import type { FhirRequest, RequestContext } from '../types';

export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BundleRequestEntry {
  index: number;
  method: EntryMethod;
  /** The entry's url as given, for messages. */
  url: string;
  request: FhirRequest;
  fullUrl?: string;
  resource?: Resource;
}

const METHODS = new Set<EntryMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export function requireBundle(req: FhirRequest, maxEntries: number): Bundle & { type: 'batch' | 'transaction' } {
  const body = req.body as Bundle | undefined;
  if (!body || typeof body !== 'object' || body.resourceType !== 'Bundle') {
    throw badRequest('POST to the base needs a Bundle of type batch or transaction');
  }
  if (body.type !== 'batch' && body.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, got ${JSON.stringify(body.type)}`, 'Bundle.type');
  }
  if (body.entry !== undefined && !Array.isArray(body.entry)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  if ((body.entry?.length ?? 0) > maxEntries) {
    throw payloadTooLarge(`The Bundle has ${body.entry?.length} entries; this server accepts at most ${maxEntries}`);
  }
  return body as Bundle & { type: 'batch' | 'transaction' };
}

/** The path and query of an entry url, relative to our base; absolute urls must point at us. */
function splitUrl(ctx: RequestContext, url: string, index: number): { segments: string[]; query: Array<[string, string]> } {
  let relative = url;
  if (/^https?:\/\//.test(url)) {
    if (!url.startsWith(`${ctx.baseUrl}/`)) throw entryError(index, 400, `url ${url} is not on this server (${ctx.baseUrl})`);
    relative = url.slice(ctx.baseUrl.length + 1);
  }
  const at = relative.indexOf('?');
  const path = at < 0 ? relative : relative.slice(0, at);
  const query = at < 0 ? [] : [...new URLSearchParams(relative.slice(at + 1))];
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw entryError(index, 400, `url ${url} is not validly percent-encoded`);
  }
  return { segments, query };
}

export function readEntry(ctx: RequestContext, entry: BundleEntry, index: number, outer: FhirRequest): BundleRequestEntry {
  if (!entry || typeof entry !== 'object') throw entryError(index, 400, 'the entry must be an object');
  const method = entry.request?.method as EntryMethod | undefined;
  if (!method || !METHODS.has(method)) throw entryError(index, 400, 'request.method must be GET, HEAD, POST, PUT, PATCH or DELETE');
  const url = entry.request?.url;
  if (typeof url !== 'string' || url === '') throw entryError(index, 400, 'request.url is required');
  const { segments, query } = splitUrl(ctx, url, index);
  const request: FhirRequest = {
    method: method === 'HEAD' ? 'GET' : method,
    segments,
    query,
    headers: {
      'if-match': entry.request?.ifMatch,
      'if-none-match': entry.request?.ifNoneMatch,
      'if-modified-since': entry.request?.ifModifiedSince,
      'if-none-exist': entry.request?.ifNoneExist,
      prefer: outer.headers.prefer,
    },
  };
  const resource = entry.resource;
  if (method === 'POST' || method === 'PUT') {
    if (!resource) throw entryError(index, 400, `${method} needs a resource`);
    request.body = resource;
    request.bodyKind = 'resource';
  } else if (method === 'PATCH') {
    request.body = patchDocument(resource, index);
    request.bodyKind = 'json-patch';
  }
  return { index, method, url, request, fullUrl: entry.fullUrl, resource };
}

/** A JSON Patch travels in a transaction as a Binary whose data is the base64 patch document. */
function patchDocument(resource: Resource | undefined, index: number): unknown {
  if (resource?.resourceType !== 'Binary' || typeof resource.data !== 'string') {
    throw entryError(index, 400, 'PATCH in a Bundle needs a Binary resource carrying the JSON Patch in data (base64)');
  }
  try {
    return JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
  } catch {
    throw entryError(index, 400, 'the Binary data is not a base64 JSON Patch document');
  }
}

/** An error naming the entry: the OperationOutcome says which one failed, by index. */
export function entryError(index: number, status: number, message: string): FhirError {
  return new FhirError(status, [
    { severity: 'error', code: status === 404 ? 'not-found' : 'invalid', diagnostics: `Bundle.entry[${index}]: ${message}`, expression: [`Bundle.entry[${index}]`] },
  ]);
}

/** Re-labels an error raised while processing an entry so its issues point into the Bundle. */
export function atEntry(error: unknown, entry: BundleRequestEntry): unknown {
  if (!(error instanceof FhirError)) return error;
  const prefix = `Bundle.entry[${entry.index}]`;
  const issues = (error.outcome.issue ?? []).map((issue) => ({
    ...issue,
    diagnostics: `${prefix} (${entry.method} ${entry.url}): ${issue.diagnostics ?? ''}`,
    expression: issue.expression?.length
      ? issue.expression.map((e) => `${prefix}.resource${e.includes('.') ? e.slice(e.indexOf('.')) : ''}`)
      : [prefix],
  }));
  return new FhirError(error.status, issues, error.headers);
}
