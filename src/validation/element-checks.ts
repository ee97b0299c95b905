/**
 * Stage 3: the checks @medplum/core's validator does not make, in one walk over the resource
 * guided by the element tree of the profile (or base type) it is validated against:
 * - required bindings, against bundled ValueSets;
 * - reference target types (Medplum only warns);
 * - choice types a profile narrowed (effective[x] to Period only, ...);
 * - invariants on data types inside the resource (Period per-1, Quantity qty-3, ...);
 * - everything inside slices (Medplum only counts top-level slices): cardinality, fixed and
 *   pattern values, nested slice counts.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isKnownResourceType } from '../fhir/definitions';
import { isValidId } from '../fhir/ids';
import { issue } from '../fhir/outcome';
import type { Discriminator, ElementNode } from './element-model';
import { CHOICE_TYPE_NAMES, isPrimitive, typeChildren } from './element-model';
import type { ConstraintEnv } from './constraints';
import { evaluateConstraints } from './constraints';
import { checkTypeInvariants } from './invariants';
import { appendAll } from './issues';
import { deepEqual, matchesPattern } from './patterns';
import { referencedType } from './references';
import type { Membership, Terminology } from './terminology';

interface ChildIndex {
  byKey: Map<string, { node: ElementNode; type: string; primitive: boolean }>;
  choices: { prefix: string; node: ElementNode }[];
  own: ElementNode[];
}

const indexes = new WeakMap<ElementNode[], ChildIndex>();
const capitalise = (s: string): string => s[0].toUpperCase() + s.slice(1);
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

function indexOf(children: ElementNode[]): ChildIndex {
  let index = indexes.get(children);
  if (index) return index;
  index = { byKey: new Map(), choices: [], own: [] };
  for (const node of children) {
    if (node.name.endsWith('[x]')) {
      const prefix = node.name.slice(0, -3);
      for (const t of node.types) index.byKey.set(prefix + capitalise(t.code), { node, type: t.code, primitive: isPrimitive(t.code) });
      index.choices.push({ prefix, node });
    } else {
      const type = node.types[0]?.code ?? 'BackboneElement';
      index.byKey.set(node.name, { node, type, primitive: isPrimitive(type) });
    }
    if (node.inSlice && (node.min > 0 || node.max !== Infinity || node.fixed !== undefined || node.pattern !== undefined)) {
      index.own.push(node);
    }
  }
  indexes.set(children, index);
  return index;
}

function valueAt(value: unknown, segments: string[]): unknown {
  let current: unknown[] = [value];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const item of current) {
      if (typeof item !== 'object' || item === null) continue;
      const v = (item as Record<string, unknown>)[segment];
      if (Array.isArray(v)) appendAll(next, v);
      else if (v !== undefined) next.push(v);
    }
    current = next;
  }
  return current.length === 0 ? undefined : current.length === 1 ? current[0] : current;
}

function childAt(node: ElementNode, segments: string[]): ElementNode | undefined {
  let current: ElementNode | undefined = node;
  for (const segment of segments) {
    const children: ElementNode[] = current.children ?? typeChildren(current.types[0]?.code ?? '');
    current = children.find((c) => c.name === segment);
    if (!current) return undefined;
  }
  return current;
}

function discriminates(value: unknown, type: string, slice: ElementNode, d: Discriminator): boolean {
  if (d.type === 'type') return d.path === '$this' && slice.types.some((t) => t.code === type);
  if (d.type !== 'value' && d.type !== 'pattern') return false;
  const self = d.path === '$this';
  const spec = self ? slice : childAt(slice, d.path.split('.'));
  const actual = self ? value : valueAt(value, d.path.split('.'));
  if (!spec || actual === undefined) return false;
  const candidates = Array.isArray(actual) && !self ? actual : [actual];
  if (spec.fixed !== undefined) return candidates.some((a) => deepEqual(a, spec.fixed));
  if (spec.pattern !== undefined) return candidates.some((a) => matchesPattern(a, spec.pattern));
  return false;
}

export class ElementChecker {
  readonly issues: OperationOutcomeIssue[] = [];
  /** Choice values a profile does not allow: Medplum reports these confusingly, so the caller drops its versions. */
  readonly narrowed: { expression: string; choice: string }[] = [];

  /**
   * The resource an expression inside the value refers to as %resource and %rootResource. A Bundle
   * entry's or a Parameters' resource is a root of its own (its '#id' references point into its
   * own contained); a contained resource keeps its container as %rootResource.
   */
  private env: ConstraintEnv;

  constructor(
    private readonly terminology: Terminology,
    private readonly resource: Resource,
  ) {
    this.env = { resource, rootResource: resource };
  }

  check(children: ElementNode[]): this {
    this.walkObject(this.resource as unknown as Record<string, unknown>, children, this.resource.resourceType, undefined);
    return this;
  }

  private walkObject(obj: Record<string, unknown>, children: ElementNode[], path: string, type: string | undefined): void {
    if (type) checkTypeInvariants(type, obj, path, this.env, this.issues);
    const index = indexOf(children);
    // for-in over own keys: Object.keys' keys, in its order, without its array.
    for (const key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      if (key === 'resourceType' || key.charCodeAt(0) === 95 /* "_": primitive extensions */) continue;
      const hit = index.byKey.get(key);
      if (hit) this.visit(obj[key], key, hit.node, hit.type, hit.primitive, path);
      else this.checkNarrowing(key, index, path);
    }
    for (const node of index.own) this.checkOwn(obj, node, index, path);
  }

  private visit(raw: unknown, key: string, node: ElementNode, type: string, primitive: boolean, path: string): void {
    const many = Array.isArray(raw);
    const count = many ? raw.length : 1;
    const counts = node.slices && node.inSlice ? new Map<ElementNode, number>() : undefined;
    for (let i = 0; i < count; i++) {
      const value: unknown = many ? raw[i] : raw;
      if (value === null || value === undefined) continue;
      const at = many ? `${path}.${key}[${i}]` : `${path}.${key}`;
      let target = node;
      const slice = node.slices?.find((s) => node.discriminators?.every((d) => discriminates(value, type, s, d)));
      if (slice) {
        target = slice;
        counts?.set(slice, (counts.get(slice) ?? 0) + 1);
      }
      this.checkValue(value, target, type, primitive, at);
    }
    // Top-level slices are counted by Medplum; slices inside slices only here.
    for (const slice of counts ? (node.slices ?? []) : []) {
      const n = counts?.get(slice) ?? 0;
      if (n < slice.min || n > slice.max) {
        const max = Number.isFinite(slice.max) ? slice.max : '*';
        this.issues.push(
          issue('error', 'structure', `Incorrect number of values provided for slice '${slice.sliceName}': expected ${slice.min}..${max}, but found ${n}`, `${path}.${key}`),
        );
      }
    }
  }

  private checkValue(value: unknown, node: ElementNode, type: string, primitive: boolean, at: string): void {
    if (node.requiredValueSet) this.checkBinding(value, type, node.requiredValueSet, at);
    if (node.constraints) appendAll(this.issues, evaluateConstraints(node.constraints, value, at, this.env));
    if (typeof value !== 'object' || value === null || primitive) return;
    const record = value as Record<string, unknown>;
    if (type === 'Reference') this.checkReference(record, node, at);
    if (type === 'Resource' || type === 'DomainResource') {
      const nested = record.resourceType;
      if (typeof nested === 'string' && isKnownResourceType(nested)) this.walkNestedResource(record, nested, at, node.name === 'contained');
      return;
    }
    this.walkObject(record, node.children ?? typeChildren(type), at, type);
  }

  private walkNestedResource(record: Record<string, unknown>, type: string, at: string, contained: boolean): void {
    // The structural stage checks the root's id; a nested resource's id follows the same R4 id rule.
    if (record.id !== undefined && !isValidId(record.id)) {
      this.issues.push(issue('error', 'value', `"${String(record.id)}" is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)`, `${at}.id`));
    }
    const outer = this.env;
    this.env = { resource: record, rootResource: contained ? outer.rootResource : record };
    try {
      this.walkObject(record, typeChildren(type), at, undefined);
    } finally {
      this.env = outer;
    }
  }

  private checkBinding(value: unknown, type: string, url: string, at: string): void {
    const vs = this.terminology.valueSet(url);
    if (!vs) return;
    const name = url.includes('|') ? url.split('|')[0] : url;
    if (type === 'code' || type === 'string' || type === 'uri') {
      if (typeof value === 'string' && !vs.has(undefined, value)) {
        this.issues.push(issue('error', 'code-invalid', `The value "${value}" is not in the required ValueSet ${name}`, at));
      }
      return;
    }
    const codings = type === 'Coding' ? [value] : type === 'CodeableConcept' ? ((value as { coding?: unknown[] }).coding ?? []) : undefined;
    if (!codings || codings.some((c) => this.codingIn(c, vs))) return;
    const shown = codings.map((c) => {
      const { system, code } = c as { system?: string; code?: string };
      return system ? `${system}|${code}` : String(code);
    });
    const what = shown.length ? `None of the codes (${shown.join(', ')}) is` : 'No code is';
    this.issues.push(issue('error', 'code-invalid', `${what} in the required ValueSet ${name}`, at));
  }

  private codingIn(coding: unknown, vs: Membership): boolean {
    const { system, code } = (coding ?? {}) as { system?: unknown; code?: unknown };
    return typeof code === 'string' && vs.has(typeof system === 'string' ? system : undefined, code);
  }

  private checkReference(reference: Record<string, unknown>, node: ElementNode, at: string): void {
    const targets = node.types.find((t) => t.code === 'Reference')?.targets;
    if (!targets) return;
    const declared = typeof reference.type === 'string' ? reference.type.replace(HL7_SD, '') : undefined;
    const actual = typeof reference.reference === 'string' ? referencedType(reference.reference, this.env.rootResource as Resource) : undefined;
    for (const found of [actual, declared]) {
      if (found !== undefined && !targets.includes(found)) {
        this.issues.push(issue('error', 'structure', `A reference to ${found} is not allowed here; expected ${targets.join(' | ')}`, at));
        return;
      }
    }
  }

  private checkNarrowing(key: string, index: ChildIndex, path: string): void {
    for (const { prefix, node } of index.choices) {
      if (key.length > prefix.length && key.startsWith(prefix) && CHOICE_TYPE_NAMES.has(key.slice(prefix.length))) {
        const expression = `${path}.${key}`;
        const allowed = node.types.map((t) => t.code).join(' | ');
        this.issues.push(issue('error', 'structure', `${key} is not allowed: ${node.name} is restricted to ${allowed}`, expression));
        this.narrowed.push({ expression, choice: `${path}.${node.name}` });
        return;
      }
    }
    // Any other unknown key was already reported by the structural stage.
  }

  private checkOwn(obj: Record<string, unknown>, node: ElementNode, index: ChildIndex, path: string): void {
    const at = `${path}.${node.name}`;
    const present: unknown[] = [];
    if (node.name.endsWith('[x]')) {
      for (const [key, hit] of index.byKey) if (hit.node === node && obj[key] !== undefined) present.push(obj[key]);
      if (this.narrowed.some((n) => n.choice === at)) return;
    } else if (obj[node.name] !== undefined) {
      const raw = obj[node.name];
      appendAll(present, Array.isArray(raw) ? raw : [raw]);
    }
    if (present.length < node.min || present.length > node.max) {
      const max = Number.isFinite(node.max) ? node.max : '*';
      const text = present.length === 0 ? 'Missing required property' : `Invalid number of values: expected ${node.min}..${max}, but found ${present.length}`;
      this.issues.push(issue('error', 'structure', text, at));
    }
    for (const value of present) {
      if (node.fixed !== undefined && !deepEqual(value, node.fixed)) {
        this.issues.push(issue('error', 'value', `Value does not equal the fixed value ${JSON.stringify(node.fixed)}`, at));
      } else if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) {
        this.issues.push(issue('error', 'value', 'Value did not match expected pattern', at));
      }
    }
  }
}
