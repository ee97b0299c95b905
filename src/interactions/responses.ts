/** Response headers and the Prefer header, shared by every interaction. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue, outcome } from '../fhir/outcome';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export function versionTag(versionId: string | number): string {
  return `W/"${versionId}"`;
}

/** ETag and Last-Modified of a stored resource. */
export function resourceHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) headers.ETag = versionTag(resource.meta.versionId);
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  return headers;
}

export function versionedLocation(ctx: RequestContext, resource: Resource): string {
  return `${ctx.baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export interface Preferences {
  return: ReturnPreference;
  handling: 'strict' | 'lenient';
  respondAsync: boolean;
}

/** Parses `Prefer: return=minimal, handling=strict` (RFC 7240); unknown tokens are ignored. */
export function preferences(req: FhirRequest): Preferences {
  const result: Preferences = { return: 'representation', handling: 'lenient', respondAsync: false };
  for (const part of (req.headers.prefer ?? '').split(/[,;]/)) {
    const [name, value] = part.trim().split('=').map((s) => s?.trim().replace(/^"|"$/g, ''));
    if (name === 'return' && (value === 'minimal' || value === 'representation' || value === 'OperationOutcome')) {
      result.return = value;
    } else if (name === 'handling' && (value === 'strict' || value === 'lenient')) {
      result.handling = value;
    } else if (name === 'respond-async') {
      result.respondAsync = true;
    }
  }
  return result;
}

/** The response to a create, update or patch, shaped by `Prefer: return=`. */
export function writeResponse(
  req: FhirRequest,
  ctx: RequestContext,
  status: number,
  resource: Resource,
  message: string,
  warnings: OperationOutcomeIssue[] = [],
): FhirResponse {
  const headers = { ...resourceHeaders(resource), Location: versionedLocation(ctx, resource) };
  switch (preferences(req).return) {
    case 'minimal':
      return { status, headers };
    case 'OperationOutcome':
      return { status, headers, body: outcome([issue('information', 'informational', message), ...warnings]) };
    default:
      return { status, headers, body: resource };
  }
}
