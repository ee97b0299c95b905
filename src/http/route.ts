/**
 * What a request is, in FHIR terms, without any of its values: the interaction, the resource type
 * and a route template such as "/Patient/{id}/_history/{vid}". Logs and metrics use it, so neither
 * ever carries an id or a query value (both can identify a patient).
 */
import { isKnownResourceType } from '../fhir/definitions';

export interface RouteDescription {
  interaction: string;
  /** A known FHIR resource type, or undefined (unknown names are not echoed: they are caller input). */
  resourceType?: string;
  template: string;
}

function operationName(segment: string): string {
  // Operation codes are ours (registered names); anything else is summarised, not echoed.
  return /^\$[a-z][a-z0-9-]{0,63}$/.test(segment) ? segment : '${operation}';
}

/** Describes a request by method and its path segments below the FHIR base. */
export function describeRoute(method: string, segments: readonly string[], hasQuery: boolean): RouteDescription {
  const [first, second, third] = segments;
  if (segments.length === 0) {
    return method === 'POST' ? { interaction: 'batch-transaction', template: '/' } : { interaction: 'search-system', template: '/' };
  }
  if (first.startsWith('$')) return { interaction: 'operation', template: `/${operationName(first)}` };
  if (segments.length === 1 && first === 'metadata') return { interaction: 'capabilities', template: '/metadata' };
  if (segments.length === 1 && first === '_history') return { interaction: 'history-system', template: '/_history' };
  if (segments.length === 1 && first === '_search') return { interaction: 'search-system', template: '/_search' };
  if (!isKnownResourceType(first)) return { interaction: 'other', template: '/{unknown}' };
  const resourceType = first;
  if (segments.length === 1) {
    const interaction = { GET: 'search-type', POST: 'create', PUT: 'conditional-update', DELETE: 'conditional-delete' }[method] ?? 'other';
    return { interaction, resourceType, template: `/${resourceType}` };
  }
  if (second === '_search' && segments.length === 2) return { interaction: 'search-type', resourceType, template: `/${resourceType}/_search` };
  if (second === '_history' && segments.length === 2) return { interaction: 'history-type', resourceType, template: `/${resourceType}/_history` };
  if (second.startsWith('$') && segments.length === 2) {
    return { interaction: 'operation', resourceType, template: `/${resourceType}/${operationName(second)}` };
  }
  if (segments.length === 2) {
    const interaction = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? 'other';
    return { interaction, resourceType, template: `/${resourceType}/{id}` };
  }
  if (third === '_history') {
    if (segments.length === 3) return { interaction: 'history-instance', resourceType, template: `/${resourceType}/{id}/_history` };
    return { interaction: 'vread', resourceType, template: `/${resourceType}/{id}/_history/{vid}` };
  }
  if (third.startsWith('$')) return { interaction: 'operation', resourceType, template: `/${resourceType}/{id}/${operationName(third)}` };
  const compartmentType = third === '*' || isKnownResourceType(third) ? third : '{unknown}';
  return {
    interaction: hasQuery || method === 'GET' ? 'search-compartment' : 'other',
    resourceType,
    template: `/${resourceType}/{id}/${compartmentType}`,
  };
}
