/**
 * A direct evaluator for the simple search expressions, which are most of them: unions of element
 * paths such as `MedicationStatement.subject`, with `ofType(T)`, `as T`, `where(system='email')` and
 * our rewritten `resolve() is T` tests (see expressions.ts). Indexing runs on every write, and
 * fhirpath.js spends most of its time on generality these paths do not need; here each path is
 * resolved against the R4 model once, at compile time, and evaluation is a walk over the JSON.
 *
 * It returns the same nodes fhirpath.js would (value and FHIR type), which a test checks against
 * fhirpath.js for every parameter of the types we profile. An expression it does not understand
 * gets `undefined`, and fhirpath.js evaluates it instead.
 */
import r4model from 'fhirpath/fhir-context/r4';
import { REFERENCE_TARGET_TEST, unionBranches } from './expressions';
import type { CompiledExpression, FhirNode } from './expressions';

interface Model {
  path2Type: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
}
const model = r4model as unknown as Model;

const PRIMITIVES = new Set([
  'boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date', 'dateTime',
  'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid',
]);

/** Choice variants are named with a capital ("DateTime"); FHIR names primitive types in lower camel case. */
function typeName(raw: string): string {
  const lower = raw.charAt(0).toLowerCase() + raw.slice(1);
  return PRIMITIVES.has(lower) ? lower : raw;
}

function isA(type: string, wanted: string): boolean {
  for (let t: string | undefined = type; t; t = model.type2Parent[t]) if (t === wanted) return true;
  return false;
}

/** `fields` caches, per element the step is applied to, where the model puts the child's values. */
type ChildStep = { kind: 'child'; name: string; fields: Map<string, ChildField[]> };

type Step =
  | ChildStep
  | { kind: 'ofType'; type: string }
  | { kind: 'whereEquals'; field: string; value: string }
  | { kind: 'referenceTo'; type: string };

/** A node during evaluation: `element` is where its children are looked up in the model. */
interface Node {
  data: unknown;
  type: string;
  element: string;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]*$/;

/** Strips parentheses that wrap the whole string. */
function unwrap(text: string): string {
  let s = text.trim();
  while (s.startsWith('(') && closingParen(s, 0) === s.length - 1) s = s.slice(1, -1).trim();
  return s;
}

function closingParen(s: string, open: number): number {
  let depth = 0;
  let quote = false;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === "'") quote = false;
    } else if (ch === "'") quote = true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Splits on dots outside parentheses and quotes. */
function dotted(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') i = closingParen(s, i);
    else if (s[i] === "'") i = s.indexOf("'", i + 1);
    if (i < 0) return [];
    if (s[i] === '.') {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** The steps of one branch, or undefined when it uses anything beyond paths and simple filters. */
function parseBranch(branch: string): Step[] | undefined {
  let s = unwrap(branch);
  const cast = /^(.*)\s+as\s+([A-Za-z]+)$/s.exec(s);
  if (cast) {
    const inner = parseBranch(cast[1]);
    return inner && [...inner, { kind: 'ofType', type: cast[2] }];
  }
  const steps: Step[] = [];
  if (s.startsWith('(')) {
    // "(X.value.ofType(CodeableConcept)).text": a group, then more steps
    const end = closingParen(s, 0);
    const group = parseBranch(s.slice(0, end + 1));
    if (!group || s[end + 1] !== '.') return undefined;
    steps.push(...group);
    s = s.slice(end + 2);
  }
  for (const part of dotted(s)) {
    const call = /^(\w+)\((.*)\)$/s.exec(part.trim());
    if (IDENTIFIER.test(part)) steps.push({ kind: 'child', name: part, fields: new Map() });
    else if (call && (call[1] === 'ofType' || call[1] === 'as') && IDENTIFIER.test(call[2])) steps.push({ kind: 'ofType', type: call[2] });
    else if (call && call[1] === 'where') {
      const equals = /^\s*(\w+)\s*=\s*'([^'\\]*)'\s*$/.exec(call[2]);
      const target = REFERENCE_TARGET_TEST.exec(unwrap(call[2]));
      if (equals) steps.push({ kind: 'whereEquals', field: equals[1], value: equals[2] });
      else if (target) steps.push({ kind: 'referenceTo', type: target[1] });
      else return undefined;
    } else return undefined;
  }
  return steps;
}

/** Where the children of an element of `type` at `path` are described in the model. */
function elementOf(path: string, type: string): string {
  return type === 'BackboneElement' || type === 'Element' ? (model.pathsDefinedElsewhere[path] ?? path) : type;
}

/** Where a child element's values are, as the model resolves it: one field, or one per choice variant. */
interface ChildField {
  field: string;
  type: string;
  element: string;
}

/** The fields of child `name` of an element, resolved once per element and kept on the step. */
function childFields(step: ChildStep, element: string): ChildField[] {
  let fields = step.fields.get(element);
  if (!fields) {
    const path = `${element}.${step.name}`;
    const type = model.path2Type[path];
    fields = type
      ? [{ field: step.name, type, element: elementOf(path, type) }]
      : (model.choiceTypePaths[path] ?? []).map((variant) => {
          const variantType = typeName(variant);
          return { field: step.name + variant, type: variantType, element: elementOf(path, variantType) };
        });
    step.fields.set(element, fields);
  }
  return fields;
}

function children(node: Node, step: ChildStep, out: Node[]): void {
  if (!node.data || typeof node.data !== 'object') return;
  const record = node.data as Record<string, unknown>;
  for (const { field, type, element } of childFields(step, node.element)) {
    const value = record[field];
    if (Array.isArray(value)) {
      for (const v of value) if (v !== null && v !== undefined) out.push({ data: v, type, element });
    } else if (value !== null && value !== undefined) out.push({ data: value, type, element });
  }
}

/** Checks at compile time that every step names an element the model knows, so none is silently empty. */
function resolvable(root: string, steps: Step[]): boolean {
  let elements = [root];
  for (const step of steps) {
    if (step.kind !== 'child') continue;
    const next: string[] = [];
    for (const element of elements) {
      const path = `${element}.${step.name}`;
      const type = model.path2Type[path];
      if (type) next.push(elementOf(path, type));
      else for (const variant of model.choiceTypePaths[path] ?? []) next.push(typeName(variant));
    }
    if (next.length === 0 || next.includes('Resource')) return false;
    elements = next;
  }
  return true;
}

function apply(step: Step, nodes: Node[]): Node[] {
  const out: Node[] = [];
  for (const node of nodes) {
    switch (step.kind) {
      case 'child':
        children(node, step, out);
        break;
      case 'ofType':
        if (isA(node.type, typeName(step.type))) out.push(node);
        break;
      case 'whereEquals':
        if ((node.data as Record<string, unknown>)?.[step.field] === step.value) out.push(node);
        break;
      case 'referenceTo': {
        const reference = node.data as { reference?: unknown; type?: unknown };
        const text = typeof reference?.reference === 'string' ? reference.reference : '';
        if (text.startsWith(`${step.type}/`) || text.includes(`/${step.type}/`) || reference?.type === step.type) out.push(node);
        break;
      }
    }
  }
  return out;
}

/** A direct evaluator of `expression` over resources of `type`, or undefined when fhirpath.js must do it. */
export function compilePathExpression(expression: string, type: string): CompiledExpression | undefined {
  const branches: Step[][] = [];
  for (const branch of unionBranches(expression)) {
    const parts = parseBranch(branch);
    if (!parts || parts[0]?.kind !== 'child' || parts[0].name !== type) return undefined;
    const steps = parts.slice(1);
    if (!resolvable(type, steps)) return undefined;
    branches.push(steps);
  }
  return (resource: object) => {
    const result: FhirNode[] = [];
    for (const steps of branches) {
      let nodes: Node[] = [{ data: resource, type, element: type }];
      for (const step of steps) nodes = apply(step, nodes);
      for (const node of nodes) result.push({ data: node.data, fhirNodeDataType: node.type });
    }
    return result;
  };
}
