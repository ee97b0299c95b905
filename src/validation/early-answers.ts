/**
 * Early answers for invariants that are not presence rules as a whole: the first operand of their
 * lowest-precedence operator is one (`offset.empty() or (...)`, `duration.exists() implies
 * duration >= 0`) or compares one plain value with a literal (`mode = 'working' or ...`), and the
 * rest may be one too. Where nothing can be decided this way the general engine answers. Only
 * @medplum/core's semantics get the comparisons (see compilePartial).
 */
import type { Semantics, Step } from './simple-fhirpath';
import { compileSimpleRule, navigate, toStep } from './simple-fhirpath';

/**
 * For an expression that is not a presence rule as a whole but starts with one (`offset.empty() or
 * (...)`, `duration.exists() implies duration >= 0`): the result when that first operand decides it
 * (true or ..., false implies ..., false and ...), else undefined and the general engine answers.
 */
export type ShortCircuit = (value: unknown) => boolean | undefined;

const LOWEST_FIRST = ['implies', 'or', 'and'] as const;

/** The operands of the lowest-precedence operator at the top level, split at its first occurrence. */
function firstOperand(expression: string): { op: (typeof LOWEST_FIRST)[number]; left: string; right: string } | undefined {
  const found = new Map<string, number>();
  let depth = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" || c === '`') {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) return undefined;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const word = /^\s(implies|or|xor|and)\s/.exec(expression.slice(i));
      if (word && !found.has(word[1])) found.set(word[1], i);
    }
  }
  // xor needs both operands; with one at the top level below and/or/implies nothing can be decided early.
  for (const op of LOWEST_FIRST) {
    if (op === 'and' && found.has('xor')) return undefined;
    const at = found.get(op);
    if (at !== undefined) return { op, left: expression.slice(0, at), right: expression.slice(at + op.length + 2) };
    if (op === 'implies' && found.has('xor')) return undefined;
  }
  return undefined;
}

/** An element path (lower-case names) and a string literal without escapes, as the partial rules below read them. */
const PATH = '([a-z][A-Za-z0-9]*(?:\\.[a-z][A-Za-z0-9]*)*)';
const STRING = "'([^'\\\\]*)'";
const NUMBER_COMPARISON = new RegExp(`^\\s*${PATH}\\s*(<=|>=|<|>)\\s*(-?\\d+(?:\\.\\d+)?)\\s*$`);
const STRING_EQUALITY = new RegExp(`^\\s*${PATH}\\s*(=|!=)\\s*${STRING}\\s*$`);
const STRING_CONTAINS = new RegExp(`^\\s*${PATH}\\.contains\\(${STRING}\\)(\\.not\\(\\))?\\s*$`);

/** A path split for single(): the steps to the parent, and the last one. */
interface ValuePath {
  parent: readonly Step[];
  last: Step;
}

const valuePath = (path: string): ValuePath => {
  const steps = path.split('.').map(toStep);
  return { parent: steps.slice(0, -1), last: steps[steps.length - 1] };
};

/**
 * The one plain, non-empty string or number at a path; undefined when there are none or several,
 * when it is empty (@medplum/core drops it), or when it has extensions (an `_x` twin: the engine
 * then compares the value merged with them, differently).
 */
function single(value: unknown, path: ValuePath): unknown {
  let parent = value;
  if (path.parent.length) {
    const parents = navigate(value, path.parent, true);
    if (parents.length !== 1) return undefined;
    parent = parents[0];
  }
  if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) return undefined;
  const record = parent as Record<string, unknown>;
  if (record[path.last.twin] !== undefined) return undefined;
  const v = record[path.last.name];
  return (typeof v === 'string' && v !== '') || typeof v === 'number' ? v : undefined;
}

/**
 * Comparisons with a literal, for @medplum/core only, answered when the path holds exactly one
 * plain JSON value of the literal's kind, which it compares as JavaScript does; anything else (an
 * absent value, an extended primitive, several values) is left to the general engine:
 * - `path op number` (tim-4 `duration >= 0`, tim-5 `period >= 0`), a finite number;
 * - `path = 'text'`, `path != 'text'` (lst-2, lst-3 `mode = 'working'`), a string;
 * - `path.contains('text')`, optionally `.not()` (bdl-8 `fullUrl.contains('/_history/').not()`), a string.
 * (fhirpath.js compares decimals at a precision: -1e-12 >= 0 is true there.)
 */
function compilePartial(expression: string, semantics: Semantics): ShortCircuit | undefined {
  if (semantics !== 'medplum') return undefined;
  let m = NUMBER_COMPARISON.exec(expression);
  if (m) {
    const path = valuePath(m[1]);
    const op = m[2];
    const bound = Number(m[3]);
    return (value) => {
      const n = single(value, path);
      if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
      return op === '<' ? n < bound : op === '<=' ? n <= bound : op === '>' ? n > bound : n >= bound;
    };
  }
  m = STRING_EQUALITY.exec(expression);
  if (m) {
    const path = valuePath(m[1]);
    const equal = m[2] === '=';
    const literal = m[3];
    return (value) => {
      const s = single(value, path);
      return typeof s === 'string' ? (s === literal) === equal : undefined;
    };
  }
  m = STRING_CONTAINS.exec(expression);
  if (m && m[2]) {
    const path = valuePath(m[1]);
    const literal = m[2];
    const negated = m[3] !== undefined;
    return (value) => {
      const s = single(value, path);
      return typeof s === 'string' ? s.includes(literal) !== negated : undefined;
    };
  }
  return undefined;
}

export function compileShortCircuit(expression: string, semantics: Semantics): ShortCircuit | undefined {
  const split = firstOperand(expression);
  if (!split) return undefined;
  const left: ShortCircuit | undefined = compileSimpleRule(split.left, semantics) ?? compilePartial(split.left, semantics);
  if (!left) return undefined;
  // When the first operand does not decide, the rest may still be simple or a comparison: then it is the answer.
  const right: ShortCircuit = compileSimpleRule(split.right, semantics) ?? compilePartial(split.right, semantics) ?? (() => undefined);
  // true implies x, false or x, true and x: x. undefined from a partial first operand: only the general engine can say.
  const op = split.op;
  const decided = op === 'implies' ? false : op === 'or';
  const answer = op !== 'and';
  return (value) => {
    const l = left(value);
    if (l === undefined) return undefined;
    return l === decided ? answer : right(value);
  };
}
