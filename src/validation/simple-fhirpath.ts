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
export interface Step {
  name: string;
  /** `_name`: a primitive given by its extensions alone. */
  twin: string;
  /** A choice name (value, effective, ...) also matches its typed JSON names; asked on first need, once the base definitions are loaded. */
  choice?: boolean;
}

export const toStep = (name: string): Step => ({ name, twin: `_${name}` });

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
export function navigate(value: unknown, steps: readonly Step[], medplum: boolean): readonly unknown[] {
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
