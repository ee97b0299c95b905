/**
 * One search criterion on one parameter, as a MongoDB filter over the `sp` entries. Each comma
 * alternative becomes a condition on one entry; alternatives join inside a single $elemMatch, with
 * their keys hoisted into `k: { $in }` so the (sp.n, sp.k) index still serves the OR.
 */
import { badRequest } from '../fhir/outcome';
import type { Filter } from '../storage/port';
import type { LeafCriterion } from './criteria';
import { parseDateRange } from './dates';
import { normalizeReference } from './extract';
import { escapeRegex, normalizeText } from './normalize';
import type { ParamDef } from './registry';
import {
  alternatives,
  MAX_CONTAINS_LENGTH,
  parseSearchNumber,
  parseToken,
  type Prefix,
  splitPrefix,
  splitUnescaped,
  unescapeValue,
} from './search-values';
import type { ParamType } from './types';

type Condition = Record<string, unknown>;

export interface ConditionContext {
  /** The FHIR base URL the client used: an absolute reference to it also matches the relative one. */
  baseUrl?: string;
  /** Codes of a ValueSet per system ('any': every code of that system), for :in and :not-in. */
  valueSetCodes(url: string): ReadonlyMap<string, ReadonlySet<string> | 'any'> | undefined;
  /** The type of a composite component's parameter, by canonical URL. */
  componentType(definition: string): ParamType | undefined;
}

const DAY = 86_400_000;

export function elemMatch(code: string, conditions: Condition[]): Filter {
  if (conditions.length === 1) return { sp: { $elemMatch: { n: code, ...conditions[0] } } };
  const keys = conditions.map((c) => pinnedKeys(c.k));
  const match: Condition = { n: code, $or: conditions };
  if (keys.every((k) => k !== undefined)) match.k = { $in: [...new Set(keys.flat())] };
  return { sp: { $elemMatch: match } };
}

function pinnedKeys(condition: unknown): string[] | undefined {
  if (typeof condition === 'string') return [condition];
  const c = condition as { $in?: unknown } | undefined;
  if (c && Array.isArray(c.$in) && c.$in.every((v) => typeof v === 'string')) return c.$in as string[];
  return undefined;
}

function none(filter: Filter): Filter {
  return { $nor: [filter] };
}

export function leafFilter(leaf: LeafCriterion, ctx: ConditionContext): Filter {
  const { name, param, modifier, value } = leaf;
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`${name} must be true or false`, name);
    const present: Filter = { sp: { $elemMatch: { n: param.code } } };
    return value === 'true' ? none(present) : present;
  }
  const values = alternatives(name, value);
  if (values.some((v) => v === '')) throw badRequest(`${name} has an empty value`, name);
  if (param.code === '_id') {
    const ids = values.map(unescapeValue);
    return modifier === 'not' ? { _id: { $nin: ids } } : { _id: { $in: ids } };
  }
  if (param.type === 'reference' && modifier === 'identifier') {
    return elemMatch(`${param.code}:identifier`, values.map((v) => tokenCondition(name, v)));
  }
  if (param.type === 'token' && (modifier === 'in' || modifier === 'not-in')) {
    const filter = elemMatch(param.code, values.map((v) => valueSetCondition(name, unescapeValue(v), ctx)));
    return modifier === 'not-in' ? none(filter) : filter;
  }
  const conditions = values.map((v) => valueCondition(name, param, modifier, v, ctx));
  const filter = elemMatch(param.code, conditions);
  return modifier === 'not' ? none(filter) : filter;
}

/** The condition one alternative puts on one entry of `param`. */
function valueCondition(name: string, param: ParamDef, modifier: string | undefined, raw: string, ctx: ConditionContext): Condition {
  switch (param.type) {
    case 'string':
      return stringCondition(name, modifier, unescapeValue(raw));
    case 'token':
      if (modifier === 'text') return { t: { $regex: `(^|\\s)${escapeRegex(normalizeText(unescapeValue(raw)))}` } };
      if (modifier === 'of-type') return ofTypeCondition(name, raw);
      return tokenCondition(name, raw);
    case 'reference':
      return referenceCondition(name, param, modifier, unescapeValue(raw), ctx);
    case 'date':
      return dateCondition(name, raw);
    case 'number':
      return numberCondition(name, raw);
    case 'quantity':
      return quantityCondition(name, raw);
    case 'uri':
      return uriCondition(modifier, unescapeValue(raw));
    case 'composite':
      return compositeCondition(name, param, raw, ctx);
    default:
      throw badRequest(`${name}: ${param.type} parameters are not supported`, name);
  }
}

function stringCondition(name: string, modifier: string | undefined, value: string): Condition {
  if (modifier === 'exact') return { k: value };
  const text = normalizeText(value);
  if (!text) throw badRequest(`${name} needs some text`, name);
  if (modifier === 'contains') {
    if (text.length > MAX_CONTAINS_LENGTH) throw badRequest(`${name}: a :contains value is limited to ${MAX_CONTAINS_LENGTH} characters`, name);
    return { t: { $regex: escapeRegex(text) } };
  }
  return { t: { $regex: `^${escapeRegex(text)}` } };
}

export function tokenCondition(name: string, raw: string): Condition {
  const token = parseToken(name, raw);
  const condition: Condition = {};
  if (token.system) condition.s = token.system;
  if (token.noSystem) condition.s = { $exists: false };
  if (token.code !== undefined) condition.k = token.code;
  return condition;
}

function ofTypeCondition(name: string, raw: string): Condition {
  const parts = splitUnescaped(raw, '|').map(unescapeValue);
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw badRequest(`${name}: :of-type takes system|code|value`, name);
  return { y: `${parts[0]}|${parts[1]}`, k: parts[2] };
}

function valueSetCondition(name: string, url: string, ctx: ConditionContext): Condition {
  const codes = ctx.valueSetCodes(url);
  if (!codes) throw badRequest(`${name}: the ValueSet ${url} is not known to this server`, name);
  const branches: Condition[] = [];
  const listed = new Set<string>();
  for (const [system, set] of codes) {
    branches.push(set === 'any' ? { s: system } : { s: system, k: { $in: [...set] } });
    if (set !== 'any') for (const code of set) listed.add(code);
  }
  // a `code` element is stored without its (implicit) system: it matches any listed code
  if (listed.size) branches.push({ s: { $exists: false }, k: { $in: [...listed] } });
  if (branches.length === 0) return { k: { $in: [] } };
  return branches.length === 1 ? branches[0] : { $or: branches };
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

function referenceCondition(name: string, param: ParamDef, modifier: string | undefined, value: string, ctx: ConditionContext): Condition {
  const relative = RELATIVE.exec(value);
  if (relative) {
    if (modifier && relative[1] !== modifier) throw badRequest(`${name}: ${value} is not a ${modifier}`, name);
    return { k: normalizeReference(value) };
  }
  if (ID.test(value)) {
    const types = modifier ? [modifier] : param.targets;
    if (types.length === 0) return { k: { $regex: `(^|/)${escapeRegex(value)}$` } };
    return { k: { $in: types.map((t) => `${t}/${value}`) } };
  }
  const keys = [normalizeReference(value)];
  const base = ctx.baseUrl ? `${ctx.baseUrl}/` : undefined;
  if (base && value.startsWith(base) && RELATIVE.test(value.slice(base.length))) keys.push(normalizeReference(value.slice(base.length)));
  return keys.length === 1 ? { k: keys[0] } : { k: { $in: keys } };
}

function dateCondition(name: string, raw: string): Condition {
  const [prefix, text] = splitPrefix(name, raw);
  const range = parseDateRange(text);
  if (!range) throw badRequest(`${name}: "${text}" is not a date (e.g. 2024, 2024-03, 2024-03-05, 2024-03-05T10:00:00+05:00)`, name);
  return rangeCondition(prefix, range.lo, range.hi);
}

/** FHIR's prefix rules between the search range [qlo, qhi) and each stored range [lo, hi). */
function rangeCondition(prefix: Prefix, qlo: number, qhi: number): Condition {
  const within = { lo: { $gte: qlo }, hi: { $lte: qhi } };
  switch (prefix) {
    case 'eq':
      return within;
    case 'ne':
      return { $or: [{ lo: { $lt: qlo } }, { hi: { $gt: qhi } }] };
    case 'gt':
      return { hi: { $gt: qhi } };
    case 'lt':
      return { lo: { $lt: qlo } };
    case 'ge':
      return { $or: [{ hi: { $gt: qhi } }, within] };
    case 'le':
      return { $or: [{ lo: { $lt: qlo } }, within] };
    case 'sa':
      return { lo: { $gte: qhi } };
    case 'eb':
      return { hi: { $lte: qlo } };
    case 'ap': {
      // "approximately": 10% of the distance from now, at least a day either side
      const margin = Math.max(DAY, 0.1 * Math.abs(Date.now() - qlo));
      return { lo: { $lt: qhi + margin }, hi: { $gt: qlo - margin } };
    }
  }
}

function numericCondition(name: string, prefix: Prefix, text: string): Condition {
  const n = parseSearchNumber(name, text);
  switch (prefix) {
    case 'eq':
      return { v: { $gte: n.lo, $lt: n.hi } };
    case 'ne':
      return { $or: [{ v: { $lt: n.lo } }, { v: { $gte: n.hi } }] };
    case 'gt':
    case 'sa':
      return { v: { $gt: n.value } };
    case 'lt':
    case 'eb':
      return { v: { $lt: n.value } };
    case 'ge':
      return { v: { $gte: n.value } };
    case 'le':
      return { v: { $lte: n.value } };
    case 'ap': {
      const margin = Math.max(Math.abs(n.value) * 0.1, n.hi - n.value);
      return { v: { $gte: n.value - margin, $lte: n.value + margin } };
    }
  }
}

function numberCondition(name: string, raw: string): Condition {
  const [prefix, text] = splitPrefix(name, raw);
  return numericCondition(name, prefix, text);
}

function quantityCondition(name: string, raw: string): Condition {
  const [number, system, code, ...extra] = splitUnescaped(raw, '|').map(unescapeValue);
  if (extra.length) throw badRequest(`${name}: "${raw}" is not a quantity (number|system|code)`, name);
  const [prefix, text] = splitPrefix(name, number);
  const condition = numericCondition(name, prefix, text);
  if (system) condition.s = system;
  if (code) {
    if (system) condition.k = code;
    else return { $and: [condition, { $or: [{ k: code }, { u: normalizeText(code) }] }] };
  }
  return condition;
}

function uriCondition(modifier: string | undefined, value: string): Condition {
  if (modifier === 'below') return { k: { $regex: `^${escapeRegex(value)}` } };
  if (modifier === 'above') {
    const prefixes = [value];
    const start = value.indexOf('//') >= 0 ? value.indexOf('//') + 2 : 0;
    for (let i = value.length - 1; i > start; i--) if (value[i] === '/') prefixes.push(value.slice(0, i));
    return { k: { $in: prefixes } };
  }
  return { k: value };
}

function compositeCondition(name: string, param: ParamDef, raw: string, ctx: ConditionContext): Condition {
  const parts = splitUnescaped(raw, '$');
  const components = param.components ?? [];
  if (parts.length !== components.length) {
    throw badRequest(`${name}: a value needs ${components.length} parts separated by $`, name);
  }
  const condition: Condition = {};
  components.forEach((component, i) => {
    const type = ctx.componentType(component.definition);
    if (!type || type === 'composite') throw badRequest(`${name}: component ${i + 1} is not supported`, name);
    const inner: ParamDef = { code: `${param.code}$${i}`, type, url: component.definition, targets: [] };
    condition[`c${i}`] = { $elemMatch: valueCondition(name, inner, undefined, parts[i], ctx) };
  });
  return condition;
}
