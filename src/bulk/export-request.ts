/**
 * The kick-off parameters of a Bulk Data export (FHIR Bulk Data Access 2.0): `_outputFormat`,
 * `_type`, `_since` and `_typeFilter`, checked and turned into what a job needs. Anything it cannot
 * honour is a 400, so a client never gets a silently different export than it asked for.
 */
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome';
import { isKnownResourceType } from '../fhir/definitions';

export const NDJSON = 'application/fhir+ndjson';
const OUTPUT_FORMATS = new Set([NDJSON, 'application/ndjson', 'ndjson']);

export interface ExportRequest {
  /** Resource types to export, in order; undefined = every type the level covers. */
  types?: string[];
  /** Only resources last updated at or after this instant (epoch ms). */
  since?: number;
  /** Per type, the search queries of `_typeFilter` (a resource matching any of them is exported). */
  typeFilters: Record<string, Array<Array<[string, string]>>>;
}

function values(parameters: Parameters, name: string): string[] {
  return (parameters.parameter ?? [])
    .filter((p) => p.name === name)
    .map((p) => p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? '')
    .filter((v) => v !== '');
}

export function parseExportRequest(parameters: Parameters): ExportRequest {
  for (const format of values(parameters, '_outputFormat')) {
    if (!OUTPUT_FORMATS.has(format)) throw badRequest(`_outputFormat ${format} is not supported; this server writes ${NDJSON}`, '_outputFormat');
  }
  const typeValues = values(parameters, '_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const type of typeValues) if (!isKnownResourceType(type)) throw badRequest(`_type ${type} is not a FHIR resource type`, '_type');
  const types = typeValues.length ? [...new Set(typeValues)] : undefined;

  const sinceValues = values(parameters, '_since');
  let since: number | undefined;
  if (sinceValues.length) {
    // FHIR instant: a full date and time with a time zone.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceValues[0])) {
      throw badRequest(`_since must be a FHIR instant such as 2026-01-01T00:00:00Z, got ${sinceValues[0]}`, '_since');
    }
    since = Date.parse(sinceValues[0]);
  }

  const typeFilters: ExportRequest['typeFilters'] = {};
  for (const filter of values(parameters, '_typeFilter').flatMap((v) => v.split(/,(?=[A-Z][A-Za-z]+\?)/))) {
    const at = filter.indexOf('?');
    const type = at > 0 ? filter.slice(0, at) : '';
    if (!isKnownResourceType(type)) throw badRequest(`_typeFilter ${filter} must be a search such as Task?status=completed`, '_typeFilter');
    if (types && !types.includes(type)) throw badRequest(`_typeFilter names ${type}, which _type leaves out`, '_typeFilter');
    (typeFilters[type] ??= []).push([...new URLSearchParams(filter.slice(at + 1))]);
  }
  return { types, since, typeFilters };
}
