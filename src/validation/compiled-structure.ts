/**
 * The structural stage, compiled: each (parsed) type schema becomes a tree of pre-built closures,
 * the way ajv compiles a JSON Schema. It reports what @medplum/core's generic validator reports
 * (test/validation/compiled-differential.test.ts holds the two to the same errors), but decides
 * once per schema what Medplum decides on every value: which JSON keys an element reads, whether it
 * is a choice, which primitive check applies, which constraints to evaluate (parsed once), whether
 * there is a pattern, a fixed value, slicing or reference targets to look at.
 *
 * Closures rather than generated source (new Function): the checks are few and regular, a closure
 * per element already removes every per-value lookup, and a closure can be stepped through and
 * read in a stack trace. What remains per value is the work the value itself needs.
 *
 * Medplum's own helpers are used for the rare, subtle cases (primitive extensions `_x`, nested
 * paths in profile keys, slice discriminators, pattern/fixed comparison, FHIRPath evaluation), so
 * that those behave exactly as the reference does.
 */
import * as medplum from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema, SlicingRules, TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { primitiveOf } from './compiled-primitives';
import { checkConstraints, compileConstraints, type Run, type TypedValueWithPath } from './compiled-constraints';
import type { Found, Getter, Reader } from './compiled-readers';
import { buildGetter, isEmptyObject } from './compiled-readers';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on
// every call, which cost ~8% of a validation in the hot walk.
const {
  arrayify,
  createOperationOutcomeIssue,
  createStructureIssue,
  deepEquals,
  deepIncludes,
  getDataType,
  getNestedProperty,
  isResource,
  matchDiscriminant,
  tryGetDataType,
} = medplum;

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_SD = 'https://medplum.com/fhir/StructureDefinition/';

/** Compiled checks of one element of a type schema. */
interface CompiledElement {
  key: string;
  /** min > 0: an absent value is "Missing required property". */
  required: boolean;
  /** A profile key inside a data type ("period.start"): read with getAll, several Founds. */
  nested: boolean;
  get: Getter;
  /** The JSON keys get reads; undefined when it must always be asked (nested keys, elements the base does not define). */
  keys?: readonly string[];
  getAll(parent: TypedValueWithPath): Found[];
  /** The checks of one Found; false when the reference would stop looking at the others. */
  visit(found: Found, path: string, run: Run): boolean;
}

function compileElement(key: string, element: InternalSchemaElement, lookup: InternalTypeSchema | undefined): CompiledElement {
  const constraints = compileConstraints(element.constraints);
  // Read once: the schema's objects come in many shapes, and reading them per value was a visible cost.
  const { min, max, isArray } = element;
  const maxText = Number.isFinite(max) ? String(max) : '*';
  const slicing = element.slicing;
  const pattern = element.pattern;
  const fixed = element.fixed;
  const references = referenceCheck(element);
  const checkValue = valueCheck();
  // A profile key inside a data type (e.g. "period.start") is rare: read as the reference reads it.
  const nested = key.includes('.');
  const reader: Reader = nested ? { get: () => undefined } : buildGetter(key, lookup);
  return {
    key,
    required: min > 0,
    nested,
    get: reader.get,
    keys: reader.keys,
    getAll: (parent) => getNestedProperty(parent, key, { withPath: true }),
    visit(found, path, run) {
      if (!Array.isArray(found) && found.value === undefined) {
        if (min > 0) run.issues.push(createStructureIssue(found.path, 'Missing required property'));
        return false;
      }
      if (isEmptyObject(found)) {
        run.issues.push(createStructureIssue(path, 'Invalid empty value'));
        return false;
      }
      if (Array.isArray(found) !== isArray) {
        run.issues.push(createStructureIssue(path, isArray ? 'Expected array of values for property' : 'Expected single value for property'));
        return false;
      }
      const count = Array.isArray(found) ? found.length : 1;
      if (count < min || count > max) {
        run.issues.push(createStructureIssue(element.path, `Invalid number of values: expected ${min}..${maxText}, but found ${count}`));
      }
      if ((pattern || fixed) && !matchesSpecified(found, pattern, fixed)) {
        run.issues.push(createStructureIssue(path, 'Value did not match expected pattern'));
      }
      const counts = slicing ? new Map<string, number>(slicing.slices.map((s) => [s.name, 0])) : undefined;
      for (let i = 0; i < count; i++) {
        const value = Array.isArray(found) ? found[i] : found;
        if (constraints.length) checkConstraints(constraints, value, run);
        if (references && value.type === 'Reference') references(value, run);
        checkValue(value, run);
        if (counts) {
          const slice = sliceOf(value, slicing as SlicingRules);
          if (slice) counts.set(slice, (counts.get(slice) ?? 0) + 1);
        }
      }
      if (slicing && counts) {
        for (const slice of slicing.slices) {
          const n = counts.get(slice.name) ?? 0;
          if (n < slice.min || n > slice.max) {
            const max = Number.isFinite(slice.max) ? slice.max : '*';
            run.issues.push(createStructureIssue(path, `Incorrect number of values provided for slice '${slice.name}': expected ${slice.min}..${max}, but found ${n}`));
          }
        }
      }
      return true;
    },
  };
}

function matchesSpecified(found: TypedValueWithPath | TypedValueWithPath[], pattern?: TypedValue, fixed?: TypedValue): boolean {
  const typeAndValue = Array.isArray(found) ? found.map((v) => ({ type: v.type, value: v.value })) : { type: found.type, value: found.value };
  if (pattern && !deepIncludes(typeAndValue, pattern)) return false;
  if (fixed && !deepEquals(typeAndValue, fixed)) return false;
  return true;
}

function sliceOf(value: TypedValue, slicing: SlicingRules): string | undefined {
  for (const slice of slicing.slices) {
    const matches = slicing.discriminator.every((d) =>
      arrayify(getNestedProperty(value, d.path))?.some((v) => matchDiscriminant(v as TypedValue | undefined, d, slice)),
    );
    if (matches) return slice.name;
  }
  return undefined;
}

/** The reference's warning for a literal reference to a type the element does not list (HL7 or Medplum profiles only). */
function referenceCheck(element: InternalSchemaElement): ((value: TypedValueWithPath, run: Run) => void) | undefined {
  const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile;
  if (!targets) return undefined;
  const recognised = targets.every((t) => t.startsWith(HL7_SD) || t.startsWith(MEDPLUM_SD));
  const any = targets.includes(`${HL7_SD}Resource`);
  if (!recognised || any) return undefined;
  const allowed = new Set(targets);
  return (value, run) => {
    const reference = (value.value as { reference?: unknown } | undefined)?.reference;
    if (typeof reference !== 'string' || reference.startsWith('#')) return;
    const type = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
    if (!type) return;
    if (reference === 'system' && element.path === 'AuditEvent.agent.who') return;
    if (allowed.has(HL7_SD + type) || allowed.has(MEDPLUM_SD + type)) return;
    run.issues.push(
      createOperationOutcomeIssue('warning', 'structure', `Invalid reference: got "${type}", expected "${targets.join('", "')}"`, value.path),
    );
  };
}

/** A value's own checks: primitives by type (extensions of a primitive as an Element), others not empty. */
function valueCheck(): (value: TypedValueWithPath, run: Run) => void {
  return (value, run) => {
    const check = primitiveOf(value.type);
    if (!check) {
      if (isEmptyObject(value.value)) run.issues.push(createStructureIssue(value.path, 'Invalid empty non-primitive value'));
      return;
    }
    const raw = value.value;
    if (typeof raw !== 'object' || !raw) {
      check(raw, value.path, run.issues);
      return;
    }
    // A primitive merged with its `_x` extension object (a boxed String, Number or Boolean), or the extension alone.
    const primitive = (raw as { valueOf(): unknown }).valueOf();
    let extension: Record<string, unknown> | undefined;
    if (primitive === raw) {
      extension = raw as Record<string, unknown>;
    } else {
      if (primitive) check(primitive, value.path, run.issues);
      const own = new Set(Object.keys(primitive as object));
      const entries = Object.entries(raw).filter(([k]) => !own.has(k));
      extension = entries.length ? Object.fromEntries(entries) : undefined;
    }
    if (extension) compiledType(getDataType('Element'), 'Element').validateObject({ type: 'Element', value: extension, path: value.path }, value.path, run);
  };
}

/** A type schema compiled for values of one type name (the name decides how property values are read). */
export class CompiledType {
  private readonly elements: CompiledElement[];
  private readonly children = new Map<string, CompiledType>();
  /** For each choice element ("value" of value[x]): how its value is read, to tell a choice key from an unknown one. */
  private readonly choices: Map<string, Getter>;
  private readonly prefixes = new Map<string, string | null>();
  /** The elements reading each JSON key. */
  private readonly readers = new Map<string, number[]>();
  /** Elements asked whatever keys an object has: required ones, and those whose keys are not known. */
  private readonly always: number[] = [];
  private readonly keyInfos = new Map<string, KeyInfo>();

  constructor(
    private readonly schema: InternalTypeSchema,
    typeName: string,
  ) {
    const lookup = tryGetDataType(typeName);
    this.elements = Object.entries(schema.elements).map(([key, element]) => compileElement(key, element, lookup));
    const prefixes = Object.keys(schema.elements).filter((k) => k.endsWith('[x]')).map((k) => k.slice(0, -3));
    this.choices = new Map(prefixes.map((prefix) => [prefix, buildGetter(prefix, lookup).get]));
    this.elements.forEach((element, i) => {
      if (element.required || element.nested || !element.keys) this.always.push(i);
      for (const key of element.keys ?? []) {
        const list = this.readers.get(key) ?? [];
        if (!list.includes(i)) list.push(i);
        this.readers.set(key, list);
      }
    });
  }

  /**
   * `path` is where the reference's walk is: the element path without indexes (it names cardinality
   * and slice problems), while each value carries its own path with indexes.
   *
   * Only the elements whose keys the object has (and those always asked) are looked at, in schema
   * order: asking every element of a type (dozens, a choice element once per type) for keys an
   * object does not have was most of the walk. The others would find nothing and report nothing.
   */
  validateObject(obj: TypedValueWithPath, at: string, run: Run): void {
    const resource = isResource(obj.value);
    if (resource) run.resources.push(obj.value as Resource);
    const object = obj.value;
    if (object !== null && typeof object === 'object' && Object.getPrototypeOf(object) === Object.prototype) {
      const present: number[] = [];
      let plain = true;
      let extended = false;
      for (const key in object) {
        if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
        const info = this.keyInfo(key);
        if (!info.plain) plain = false;
        if (key.charCodeAt(0) === 95 /* _ */) extended = true;
        if (info.element >= 0) insertSorted(present, info.element);
        if (info.more) for (const i of info.more) insertSorted(present, i);
      }
      for (const i of this.always) insertSorted(present, i);
      for (const i of present) this.visitElement(this.elements[i], obj, at, run, extended);
      // An object of known, non-choice keys only has no additional property to report.
      if (!plain) this.checkAdditionalProperties(obj, run);
    } else {
      for (const element of this.elements) this.visitElement(element, obj, at, run);
      this.checkAdditionalProperties(obj, run);
    }
    if (resource) run.resources.pop();
  }

  private visitElement(element: CompiledElement, obj: TypedValueWithPath, at: string, run: Run, extended?: boolean): void {
    if (element.nested) {
      const path = `${at}.${element.key}`;
      const all = element.getAll(obj);
      for (const found of all) if (!element.visit(found, path, run)) break;
      for (const found of all) this.descend(found, path, run);
      return;
    }
    const found = element.get(obj, extended);
    if (found === undefined) {
      if (element.required) run.issues.push(createStructureIssue(`${obj.path}.${element.key}`, 'Missing required property'));
      return;
    }
    const path = `${at}.${element.key}`;
    element.visit(found, path, run);
    this.descend(found, path, run);
  }

  /** What a JSON key means for objects of this type; remembered for at most MAX_KEYS keys (unknown ones come from the input). */
  private keyInfo(key: string): KeyInfo {
    let info = this.keyInfos.get(key);
    if (info) return info;
    const properties = this.schema.elements;
    // As checkAdditionalProperties reads a key: a choice prefix first, then `in` (prototype included, as the reference does).
    const known = key in properties || (key.startsWith('_') && key.slice(1) in properties);
    const elements = this.readers.get(key) ?? [];
    const plain = key === 'resourceType' || (known && this.choicePrefix(key) === null);
    info = { element: elements.length ? elements[0] : -1, more: elements.length > 1 ? elements.slice(1) : undefined, plain };
    if (this.keyInfos.size < MAX_KEYS) this.keyInfos.set(key, info);
    return info;
  }

  /** Into every complex value, as the data type (or backbone type) it is. */
  private descend(found: Found, path: string, run: Run): void {
    if (Array.isArray(found)) {
      for (const value of found) if (!primitiveOf(value.type)) this.child(value.type).validateObject(value, path, run);
    } else if (found.value !== undefined && !primitiveOf(found.type)) {
      this.child(found.type).validateObject(found, path, run);
    }
  }

  private child(type: string): CompiledType {
    let compiled = this.children.get(type);
    if (!compiled) {
      const schema = this.schema.innerTypes?.find((t) => t.name === type) ?? getDataType(type);
      compiled = compiledType(schema, type);
      this.children.set(type, compiled);
    }
    return compiled;
  }

  private checkAdditionalProperties(parent: TypedValueWithPath, run: Run): void {
    const object = parent.value as Record<string, unknown> | undefined;
    if (!object) return;
    const properties = this.schema.elements;
    // The choice ("value[x]", "_value[x]") each key was read as; a Map, as keys with brackets made an object slow.
    const choices = new Map<string, string>();
    for (const key of Object.keys(object)) {
      if (key === 'resourceType') continue;
      const choice = this.choiceOf(parent, key);
      if (choice) {
        const extension = choice.startsWith('_');
        const related = extension ? choice.slice(1) : `_${choice}`;
        const requiredRelated = extension ? key.slice(1) : `_${key}`;
        if (choices.has(related) && choices.get(related) !== requiredRelated) {
          const name = extension ? choice.slice(1) : choice;
          run.issues.push(createOperationOutcomeIssue('warning', 'structure', `Type of primitive extension does not match the type of property "${name}"`, choice));
        }
        const earlier = choices.get(choice);
        if (earlier) {
          run.issues.push(createOperationOutcomeIssue('warning', 'structure', `Conflicting choice of type properties: "${key}", "${earlier}"`, key));
        }
        choices.set(choice, key);
        continue;
      }
      if (!(key in properties) && !(key.startsWith('_') && key.slice(1) in properties) && object[key] !== undefined) {
        run.issues.push(createStructureIssue(`${parent.path}.${key}`, `Invalid additional property "${key}"`));
      }
    }
  }

  /** "valueString" (or "_valueString") -> "value[x]" when the object has a value of that choice. */
  private choiceOf(parent: TypedValue, key: string): string | undefined {
    if (this.choices.size === 0) return undefined;
    const prefix = this.choicePrefix(key);
    if (prefix === null) return undefined;
    const getter = this.choices.get(prefix) as Getter;
    return getter(parent as TypedValueWithPath) !== undefined ? `${key.startsWith('_') ? '_' : ''}${prefix}[x]` : undefined;
  }

  /** The choice prefix a key names, or null: the same for every object, so remembered per key (at most MAX_KEYS of them). */
  private choicePrefix(key: string): string | null {
    let prefix = this.prefixes.get(key);
    if (prefix !== undefined) return prefix;
    prefix = null;
    const name = key.startsWith('_') ? key.slice(1) : key;
    // The reference splits the name before each capital and tries each growing prefix.
    for (let i = 1; i <= name.length; i++) {
      if (i < name.length && !(name[i] >= 'A' && name[i] <= 'Z')) continue;
      if (this.choices.has(name.slice(0, i))) {
        prefix = name.slice(0, i);
        break;
      }
    }
    // Unknown keys come from the input: remembering all of them would let a client grow memory.
    if (this.prefixes.size < MAX_KEYS) this.prefixes.set(key, prefix);
    return prefix;
  }
}

/** Keys whose choice prefix and meaning one compiled type remembers. */
const MAX_KEYS = 256;

/** What one JSON key tells the walk about an object holding it. */
interface KeyInfo {
  /** The element that reads it, -1 for an unknown key; `more` in the rare case that several do. */
  element: number;
  more?: readonly number[];
  /** Known and not read as a choice: checkAdditionalProperties would say nothing about it. */
  plain: boolean;
}

/** Adds n to an ascending list of distinct numbers (a handful: an object's keys). */
function insertSorted(list: number[], n: number): void {
  const last = list.length - 1;
  if (last < 0 || list[last] < n) {
    list.push(n);
    return;
  }
  let i = list.length;
  while (i > 0 && list[i - 1] > n) i--;
  if (list[i - 1] !== n) list.splice(i, 0, n);
}

const compiled = new WeakMap<InternalTypeSchema, Map<string, CompiledType>>();

/** The compiled form of a schema for values of a type name; built on first use, then reused. */
export function compiledType(schema: InternalTypeSchema, typeName: string): CompiledType {
  let byName = compiled.get(schema);
  if (!byName) {
    byName = new Map();
    compiled.set(schema, byName);
  }
  let type = byName.get(typeName);
  if (!type) {
    type = new CompiledType(schema, typeName);
    byName.set(typeName, type);
  }
  return type;
}
