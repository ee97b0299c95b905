/**
 * A plain-JavaScript matcher for the filter shapes the search layer produces ($and, $or,
 * $elemMatch, equality, $ne, $in, numeric ranges, $exists). mingo builds and walks a generic
 * query tree per document; on a search with thousands of index candidates that was most of the
 * time (token search at 100k: 43 ms, mingo ~50% of it). Any operator or value this module does not
 * know returns undefined, and the caller falls back to mingo, so results never differ.
 *
 * Mongo semantics kept here: a field holding an array matches an equality, $in or range when any
 * element does; $ne and $nin match a missing field; ranges compare numbers with numbers only
 * (type bracketing); $elemMatch tests object elements against the sub-filter.
 */
import type { Filter } from '../port';

export type Predicate = (doc: Record<string, unknown>) => boolean;

type Scalar = string | number | boolean;

const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Any value of the field (itself, or an element when it is an array) passing `test`. */
function some(value: unknown, test: (v: unknown) => boolean): boolean {
  if (Array.isArray(value)) {
    for (const v of value) if (test(v)) return true;
    return test(value);
  }
  return test(value);
}

function compileCondition(field: string, condition: unknown): Predicate | undefined {
  if (field.startsWith('$') || field.includes('.')) return undefined;
  if (isScalar(condition)) return (doc) => some(doc[field], (v) => v === condition);
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  const tests: Predicate[] = [];
  for (const [op, operand] of Object.entries(condition as Record<string, unknown>)) {
    const test = compileOperator(field, op, operand);
    if (!test) return undefined;
    tests.push(test);
  }
  if (tests.length === 0) return undefined;
  return tests.length === 1 ? tests[0] : (doc) => tests.every((t) => t(doc));
}

function compileOperator(field: string, op: string, operand: unknown): Predicate | undefined {
  switch (op) {
    case '$eq':
      return isScalar(operand) ? (doc) => some(doc[field], (v) => v === operand) : undefined;
    case '$ne':
      return isScalar(operand) ? (doc) => !some(doc[field], (v) => v === operand) : undefined;
    case '$in': {
      if (!Array.isArray(operand) || !operand.every(isScalar)) return undefined;
      const set = new Set<unknown>(operand);
      return (doc) => some(doc[field], (v) => set.has(v));
    }
    case '$nin': {
      if (!Array.isArray(operand) || !operand.every(isScalar)) return undefined;
      const set = new Set<unknown>(operand);
      return (doc) => !some(doc[field], (v) => set.has(v));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' || Number.isNaN(operand)) return undefined;
      const compare =
        op === '$gt' ? (v: number) => v > operand : op === '$gte' ? (v: number) => v >= operand : op === '$lt' ? (v: number) => v < operand : (v: number) => v <= operand;
      return (doc) => some(doc[field], (v) => typeof v === 'number' && compare(v));
    }
    case '$exists':
      if (typeof operand !== 'boolean') return undefined;
      return (doc) => (doc[field] !== undefined) === operand;
    case '$elemMatch': {
      if (!operand || typeof operand !== 'object' || Array.isArray(operand)) return undefined;
      const keys = Object.keys(operand);
      // A sub-filter of operators ({ $gt: 1 }) tests the elements themselves: not handled here.
      if (keys.length === 0 || keys.some((k) => k.startsWith('$') && k !== '$and' && k !== '$or')) return undefined;
      const element = compileFilter(operand as Filter);
      if (!element) return undefined;
      return (doc) => {
        const value = doc[field];
        if (!Array.isArray(value)) return false;
        for (const item of value) {
          if (item && typeof item === 'object' && !Array.isArray(item) && element(item as Record<string, unknown>)) return true;
        }
        return false;
      };
    }
    default:
      return undefined;
  }
}

/** A predicate equivalent to the filter, or undefined when the filter uses anything not covered. */
export function compileFilter(filter: Filter): Predicate | undefined {
  const tests: Predicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) return undefined;
      const parts: Predicate[] = [];
      for (const part of value) {
        if (!part || typeof part !== 'object' || Array.isArray(part)) return undefined;
        const compiled = compileFilter(part as Filter);
        if (!compiled) return undefined;
        parts.push(compiled);
      }
      tests.push(key === '$and' ? (doc) => parts.every((p) => p(doc)) : (doc) => parts.some((p) => p(doc)));
      continue;
    }
    const test = compileCondition(key, value);
    if (!test) return undefined;
    tests.push(test);
  }
  if (tests.length === 1) return tests[0];
  return (doc) => {
    for (const t of tests) if (!t(doc)) return false;
    return true;
  };
}
