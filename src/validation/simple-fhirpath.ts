/**
 * Most invariants are presence rules: `contained.contained.empty()`, `basedOn.exists() or
 * medicationReference.exists()`, `extension.exists() != value.exists()`. A general FHIRPath engine
 * spends microseconds on each (typing every node, building collections); this compiles that one
 * shape straight into a closure over the JSON:
 *
 *   rule    := term (('and' | 'or' | 'xor' | 'implies' | '=' | '!=') term)*   (FHIRPath precedence)
 *   term    := path '.' ('exists()' | 'empty()') ('.not()')? | '(' rule ')' ('.not()')?
 *   path    := name ('.' name)*     (names starting lower-case: elements, choice names included)
 *
 * Every term is a boolean, so the rule always yields exactly true or false, as the general engines
 * do for it. Anything else (functions, literals, indexers, type names) is not compiled: the caller
 * keeps its general engine for it. The differential test runs both engines' results side by side.
 */
import { getAllDataTypes } from '@medplum/core';

/** true or false for the value the rule is evaluated on. */
export type SimpleRule = (value: unknown) => boolean;

/**
 * The two engines differ only on values FHIR JSON forbids anyway ({}, "", [], null), but a rule must
 * give what the engine it stands in for gives: @medplum/core's counts an empty value as absent and
 * filters empty properties out; fhirpath.js counts every non-null value.
 */
export type Semantics = 'medplum' | 'fhirpath.js';

type Token = { kind: 'name' | 'op' | 'punct' | 'string'; text: string };

const OPERATORS = new Set(['and', 'or', 'xor', 'implies']);
/** FHIRPath precedence, higher binds tighter (=, != over and, over or/xor, over implies). */
const PRECEDENCE: Record<string, number> = { '=': 4, '!=': 4, and: 3, or: 2, xor: 2, implies: 1 };

/** The R4 data type names a choice element's JSON name may end with (valueString, effectivePeriod, ...). */
const CHOICE_SUFFIXES = new Set(
  [
    'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'markdown',
    'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'Address', 'Age', 'Annotation',
    'Attachment', 'CodeableConcept', 'Coding', 'ContactPoint', 'Count', 'Distance', 'Duration', 'HumanName', 'Identifier',
    'Money', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference', 'SampledData', 'Signature', 'Timing', 'ContactDetail',
    'Contributor', 'DataRequirement', 'Expression', 'ParameterDefinition', 'RelatedArtifact', 'TriggerDefinition',
    'UsageContext', 'Dosage', 'Meta',
  ].map((t) => t[0].toUpperCase() + t.slice(1)),
);

function tokenize(expression: string): Token[] | undefined {
  const tokens: Token[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(!=|=|\(|\)|\.)|'((?:[^'\\]|\\.)*)')/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) return undefined;
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: OPERATORS.has(m[1]) || m[1] === 'contains' ? 'op' : 'name', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: m[2] === '=' || m[2] === '!=' ? 'op' : 'punct', text: m[2] });
    else if (/\\/.test(m[3])) return undefined;
    else tokens.push({ kind: 'string', text: m[3] });
  }
  return tokens;
}

let choiceNames: Set<string> | undefined;

/** The names of R4's choice elements (value, effective, onset, ...): only these match typed JSON names. */
function isChoiceName(name: string): boolean {
  if (!choiceNames) {
    choiceNames = new Set();
    for (const schema of Object.values(getAllDataTypes())) {
      for (const key of Object.keys(schema.elements)) if (key.endsWith('[x]')) choiceNames.add(key.slice(key.lastIndexOf('.') + 1, -3));
    }
  }
  return choiceNames.has(name);
}

const isEmptyValue = (v: unknown): boolean =>
  v === null || v === undefined || v === '' || (typeof v === 'object' && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0));

/** One name of a path, with what each node needs looked up: decided once per rule, not per value. */
interface Step {
  name: string;
  /** `_name`: a primitive given by its extensions alone. */
  twin: string;
  /** A choice name (value, effective, ...) also matches its typed JSON names; asked on first need, once the base definitions are loaded. */
  choice?: boolean;
}

const toStep = (name: string): Step => ({ name, twin: `_${name}` });

const NOTHING: readonly unknown[] = [];

/** The value of a step in one node (a choice name matched by its typed JSON names), undefined when absent. */
function read(node: unknown, s: Step, medplum: boolean): unknown {
  if (!medplum && node !== null && node !== undefined && typeof node !== 'object') {
    // fhirpath.js reads a property of a string or number as JavaScript does ("text".search is a function).
    return (Object(node) as Record<string, unknown>)[s.name];
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const record = node as Record<string, unknown>;
  let value = record[s.name];
  if (value === undefined && record[s.twin] !== undefined) value = record[s.twin];
  if (value === undefined && (s.choice ??= isChoiceName(s.name))) {
    for (const key of Object.keys(record)) {
      const bare = key.startsWith('_') ? key.slice(1) : key;
      if (bare.length > s.name.length && bare.startsWith(s.name) && CHOICE_SUFFIXES.has(bare.slice(s.name.length))) {
        value = record[key];
        break;
      }
    }
  }
  return value;
}

/** Adds a step's value to the next nodes: arrays flattened; Medplum drops empty values, fhirpath.js only null (except inside an array). */
function collect(value: unknown, next: unknown[], medplum: boolean): void {
  if (value === undefined) return;
  if (medplum) {
    if (isEmptyValue(value)) return;
    if (Array.isArray(value)) {
      for (const v of value) if (v !== undefined) next.push(v);
    } else {
      next.push(value);
    }
  } else if (Array.isArray(value)) {
    // fhirpath.js keeps a null inside an array as an item (it stands for a value its `_x` twin extends).
    for (const v of value) if (v !== undefined) next.push(v);
  } else if (value !== null) {
    next.push(value);
  }
}

/** The values of `name` in each node: arrays flattened; a choice name matches its typed JSON names. */
function step(nodes: readonly unknown[], s: Step, medplum: boolean): unknown[] {
  const next: unknown[] = [];
  for (const node of nodes) collect(read(node, s, medplum), next, medplum);
  return next;
}

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly medplum: boolean,
  ) {}

  parse(): SimpleRule | undefined {
    const rule = this.rule(0);
    return rule && this.at === this.tokens.length ? rule : undefined;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private rule(minPrecedence: number): SimpleRule | undefined {
    let left = this.term();
    while (left) {
      const op = this.peek();
      if (op?.kind !== 'op' || PRECEDENCE[op.text] < minPrecedence || PRECEDENCE[op.text] === undefined) break;
      this.at++;
      // implies is right-associative in practice only once; all others are left-associative.
      const right = this.rule(PRECEDENCE[op.text] + 1);
      if (!right) return undefined;
      left = combine(op.text, left, right);
    }
    return left;
  }

  private term(): SimpleRule | undefined {
    let rule: SimpleRule | undefined;
    if (this.peek()?.text === '(') {
      this.at++;
      rule = this.rule(0);
      if (!rule || this.peek()?.text !== ')') return undefined;
      this.at++;
    } else {
      rule = this.presence();
    }
    while (rule && this.peek()?.text === '.' && this.tokens[this.at + 1]?.text === 'not') {
      if (this.tokens[this.at + 2]?.text !== '(' || this.tokens[this.at + 3]?.text !== ')') return undefined;
      this.at += 4;
      const inner = rule;
      rule = (v) => !inner(v);
    }
    return rule;
  }

  /** path.exists(), path.empty(), or path contains 'text' (true when some value of the path equals the string). */
  private presence(): SimpleRule | undefined {
    const names: string[] = [];
    for (;;) {
      const name = this.peek();
      if (name?.kind !== 'name' || !/^[a-z]/.test(name.text)) return undefined;
      this.at++;
      names.push(name.text);
      const next = this.peek();
      if (next?.text === '.') {
        const fn = this.tokens[this.at + 1];
        if ((fn?.text === 'exists' || fn?.text === 'empty') && this.tokens[this.at + 2]?.text === '(' && this.tokens[this.at + 3]?.text === ')') {
          this.at += 4;
          return presenceRule(names, fn.text === 'exists', this.medplum);
        }
        this.at++;
        continue;
      }
      const literal = this.tokens[this.at + 1];
      // contains binds looser than = and !=: "a contains 'x' = b" is left to the general engine.
      if (next?.text === 'contains' && literal?.kind === 'string' && literal.text && !['=', '!='].includes(this.tokens[this.at + 2]?.text ?? '')) {
        this.at += 2;
        return containsRule(names, literal.text, this.medplum);
      }
      return undefined;
    }
  }
}

/** The values at a path. Most invariants ask about an element the value does not have: that answer allocates nothing. */
function navigate(value: unknown, steps: readonly Step[], medplum: boolean): readonly unknown[] {
  const first = read(value, steps[0], medplum);
  if (first === undefined) return NOTHING;
  let nodes: unknown[] = [];
  collect(first, nodes, medplum);
  for (let i = 1; i < steps.length && nodes.length > 0; i++) nodes = step(nodes, steps[i], medplum);
  return nodes;
}

function presenceRule(names: readonly string[], exists: boolean, medplum: boolean): SimpleRule {
  const steps = names.map(toStep);
  return (value) => {
    const nodes = navigate(value, steps, medplum);
    if (!medplum) return nodes.length > 0 === exists;
    // Medplum: exists() needs every item non-empty, empty() every item empty.
    return exists ? nodes.length > 0 && nodes.every((n) => !isEmptyValue(n)) : nodes.every(isEmptyValue);
  };
}

function containsRule(names: readonly string[], literal: string, medplum: boolean): SimpleRule {
  const steps = names.map(toStep);
  return (value) => navigate(value, steps, medplum).some((n) => (n !== null && typeof n === 'object' ? (n as { valueOf(): unknown }).valueOf() : n) === literal);
}

function combine(op: string, left: SimpleRule, right: SimpleRule): SimpleRule {
  switch (op) {
    case 'and':
      return (v) => left(v) && right(v);
    case 'or':
      return (v) => left(v) || right(v);
    case 'xor':
    case '!=':
      return (v) => left(v) !== right(v);
    case '=':
      return (v) => left(v) === right(v);
    default:
      return (v) => !left(v) || right(v);
  }
}

const cache = new Map<string, SimpleRule | null>();

/** The compiled rule, or undefined when the expression is not a presence rule (use a general engine). */
export function compileSimpleRule(expression: string, semantics: Semantics): SimpleRule | undefined {
  const key = `${semantics}\u0000${expression}`;
  let rule = cache.get(key);
  if (rule === undefined) {
    const tokens = tokenize(expression);
    rule = (tokens && new Parser(tokens, semantics === 'medplum').parse()) ?? null;
    cache.set(key, rule);
  }
  return rule ?? undefined;
}

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
