/**
 * The result parameters of a search (FHIR search.html#return): _count, _sort, _total, _summary,
 * _elements, _include and _revinclude, plus our paging cursor. Parsed once per request.
 */
import { isKnownResourceType } from '../fhir/definitions';
import { badRequest } from '../fhir/outcome';

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'false' | 'text' | 'data' | 'count';

export interface SortRequest {
  code: string;
  descending: boolean;
}

export interface IncludeRequest {
  /** The parameter as written, for messages. */
  raw: string;
  sourceType: string;
  /** The reference parameter, or "*" for all of the source type's reference parameters. */
  code: string;
  targetType?: string;
  iterate: boolean;
}

export interface ResultParams {
  count?: number;
  sort: SortRequest[];
  total?: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  includes: IncludeRequest[];
  revincludes: IncludeRequest[];
  cursor?: string;
  /** _type of a system-level search. */
  types?: string[];
  /** Result parameters we recognise but do not support (e.g. _contained=true): the caller decides. */
  unsupported: Array<{ name: string; reason: string }>;
}

/** Parameters the HTTP layer handles; search ignores them. */
const HANDLED_ELSEWHERE = new Set(['_format', '_pretty']);
const SUMMARY_MODES: readonly SummaryMode[] = ['true', 'false', 'text', 'data', 'count'];
const TOTAL_MODES: readonly TotalMode[] = ['none', 'estimate', 'accurate'];
const ELEMENT = /^[A-Za-z][A-Za-z0-9]*(\[x\])?$/;
const SORT_CODE = /^-?[A-Za-z0-9_\-]+$/;

export function isResultParameter(name: string): boolean {
  const base = name.split(':')[0];
  return HANDLED_ELSEWHERE.has(base) || Object.hasOwn(PARSERS, base);
}

function once(params: ResultParams, name: string, seen: Set<string>): void {
  if (seen.has(name)) throw badRequest(`${name} may be given only once`, name);
  seen.add(name);
}

type ParamParser = (params: ResultParams, name: string, value: string, modifier: string | undefined) => void;

function parseInclude(name: string, value: string, modifier: string | undefined, reverse: boolean): IncludeRequest {
  if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') {
    throw badRequest(`${name}: the only modifier is :iterate`, name);
  }
  const iterate = modifier !== undefined;
  if (value === '*') {
    if (reverse) throw badRequest('_revinclude=* is not supported; name the type and parameter, e.g. Provenance:target', name);
    return { raw: value, sourceType: '*', code: '*', iterate };
  }
  const [sourceType, code, targetType, ...extra] = value.split(':');
  if (!sourceType || !code || extra.length) throw badRequest(`${name}: "${value}" is not of the form Type:parameter[:targetType]`, name);
  if (!isKnownResourceType(sourceType)) throw badRequest(`${name}: "${sourceType}" is not a resource type`, name);
  if (targetType !== undefined && !isKnownResourceType(targetType)) throw badRequest(`${name}: "${targetType}" is not a resource type`, name);
  return { raw: value, sourceType, code, targetType, iterate };
}

const PARSERS: Record<string, ParamParser> = {
  _count(params, name, value) {
    if (!/^\d{1,9}$/.test(value)) throw badRequest(`_count must be a non-negative integer, got ${JSON.stringify(value)}`, name);
    params.count = Number(value);
  },
  _sort(params, name, value) {
    for (const part of value.split(',')) {
      if (!SORT_CODE.test(part)) throw badRequest(`_sort: "${part}" is not a parameter code (optionally with a leading -)`, name);
      params.sort.push({ code: part.replace(/^-/, ''), descending: part.startsWith('-') });
    }
  },
  _total(params, name, value) {
    if (!(TOTAL_MODES as readonly string[]).includes(value)) throw badRequest(`_total must be one of ${TOTAL_MODES.join(', ')}`, name);
    params.total = value as TotalMode;
  },
  _summary(params, name, value) {
    if (!(SUMMARY_MODES as readonly string[]).includes(value)) throw badRequest(`_summary must be one of ${SUMMARY_MODES.join(', ')}`, name);
    params.summary = value as SummaryMode;
  },
  _elements(params, name, value) {
    const elements = value.split(',').map((e) => e.trim()).filter(Boolean).map((e) => e.slice(e.indexOf('.') + 1));
    for (const element of elements) if (!ELEMENT.test(element)) throw badRequest(`_elements: "${element}" is not an element name`, name);
    params.elements = [...(params.elements ?? []), ...elements];
  },
  _include(params, name, value, modifier) {
    params.includes.push(parseInclude(name, value, modifier, false));
  },
  _revinclude(params, name, value, modifier) {
    params.revincludes.push(parseInclude(name, value, modifier, true));
  },
  _cursor(params, _name, value) {
    params.cursor = value;
  },
  _type(params, name, value) {
    const types = value.split(',').map((t) => t.trim());
    for (const type of types) if (!isKnownResourceType(type)) throw badRequest(`_type: "${type}" is not a resource type`, name);
    params.types = [...new Set([...(params.types ?? []), ...types])];
  },
  _contained(params, name, value) {
    if (value !== 'false') params.unsupported.push({ name, reason: 'Searching contained resources (_contained) is not supported' });
  },
  _containedType(params, name) {
    params.unsupported.push({ name, reason: '_containedType is not supported' });
  },
};

/** Parses the result parameters out of the query; criteria are left to the caller. */
export function parseResultParams(query: Array<[string, string]>): ResultParams {
  const params: ResultParams = { sort: [], includes: [], revincludes: [], unsupported: [] };
  const seen = new Set<string>();
  for (const [name, value] of query) {
    const [base, modifier, ...extra] = name.split(':');
    // hasOwn: a name like "constructor" must not reach Object.prototype
    if (!Object.hasOwn(PARSERS, base)) continue;
    const parser = PARSERS[base];
    if (extra.length || (modifier !== undefined && base !== '_include' && base !== '_revinclude')) {
      throw badRequest(`${name}: ${base} takes no modifier`, name);
    }
    if (['_count', '_sort', '_total', '_summary', '_cursor'].includes(base)) once(params, base, seen);
    parser(params, name, value, modifier);
  }
  return params;
}
