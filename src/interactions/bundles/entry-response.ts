/** Turns the outcome of one entry into its Bundle.entry of a batch-response or transaction-response. */
import type { BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FhirError, issue, outcome } from '../../fhir/outcome';
import type { FhirResponse } from '../types';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

export function successEntry(response: FhirResponse): BundleEntry {
  const body = response.body;
  const isOutcome = body?.resourceType === 'OperationOutcome';
  const entry: BundleEntry = {
    response: {
      status: statusLine(response.status),
      location: response.headers.Location,
      etag: response.headers.ETag,
      lastModified: response.headers['Last-Modified'] ? new Date(response.headers['Last-Modified']).toISOString() : undefined,
      outcome: isOutcome ? (body as OperationOutcome) : undefined,
    },
  };
  if (body && !isOutcome) {
    entry.resource = body as Resource;
    if (body.id && body.resourceType !== 'Bundle') entry.fullUrl = response.headers.Location?.replace(/\/_history\/[^/]+$/, '');
    // lastModified from the resource is exact; the HTTP header only has seconds.
    if (body.meta?.lastUpdated && entry.response) entry.response.lastModified = body.meta.lastUpdated;
  }
  return entry;
}

export function failureEntry(error: unknown): BundleEntry {
  const failure = error instanceof FhirError ? error : new FhirError(500, [issue('fatal', 'exception', 'Internal server error')]);
  return { response: { status: statusLine(failure.status), outcome: failure.outcome ?? outcome([]) } };
}
