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
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { PrimitiveCheck } from './compiled-primitives';
import { primitiveCheck } from './compiled-primitives';
import { checkConstraints, compileConstraints, type Run, type TypedValueWithPath } from './compiled-constraints';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on
// every call, which cost ~8% of a validation in the hot walk.
const {
  arrayify,
  createOperationOutcomeIssue,
  createStructureIssue,
  deepEquals,
  deepIncludes,
  getDataType,
  getElementDefinitionFromElements,
  getNestedProperty,
  getTypedPropertyValueWithSchema,
  getTypedPropertyValueWithoutSchema,
  isPrimitiveType,
  isResource,
  matchDiscriminant,
  tryGetDataType,
} = medplum;

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_SD = 'https://medplum.com/fhir/StructureDefinition/';

/** What an element holds in one parent: one value, an array of them, or a value whose `value` is undefined. */
type Found = TypedValueWithPath | TypedValueWithPath[];
/** How one element's values are read from its parent object (the JSON keys tried, in the schema's type order); undefined when absent. */
type Getter = (parent: TypedValueWithPath) => Found | undefined;

function withPath(tv: TypedValue | TypedValue[] | undefined, parentPath: string, key: string): Found | undefined {
  if (tv === undefined) return undefined;
  if (Array.isArray(tv)) return tv.map((v, i) => ({ type: v.type, value: v.value, path: `${parentPath}.${key}[${i}]` }));
  return { type: tv.type, value: tv.value, path: `${parentPath}.${key}` };
}

function buildGetter(key: string, lookup: InternalTypeSchema | undefined): Getter {
  const ed = lookup ? getElementDefinitionFromElements(lookup.elements, key) : undefined;
  if (!ed) return (parent) => withPath(parent.value ? getTypedPropertyValueWithoutSchema(parent, key) : undefined, parent.path, key);
  if (!ed.type?.length) return () => undefined;
  const last = ed.path.slice(ed.path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const base = choice ? last.slice(0, -3) : last;
  const candidates = ed.type.map((t) => {
    const name = choice ? base + t.code[0].toUpperCase() + t.code.slice(1) : base;
    const resultType = t.code === 'Element' || t.code === 'BackboneElement' ? ed.type[0].code : t.code;
    return { name, extension: `_${name}`, resultType };
  });
  return (parent) => {
    const obj = parent.value as Record<string, unknown> | undefined;
    if (!obj) return undefined;
    for (const c of candidates) {
      const raw = obj[c.name];
      const extension = obj[c.extension];
      if (raw === undefined && extension === undefined) continue;
      // Primitive extensions merge into the value: done by the reference's own code.
      if (extension) return withPath(getTypedPropertyValueWithSchema(parent, key, ed), parent.path, key);
      if (isEmptyObject(raw)) return undefined;
      if (Array.isArray(raw)) {
        const prefix = `${parent.path}.${key}[`;
        return raw.map((v, i) => ({ type: typeOf(c.resultType, v), value: v, path: `${prefix}${i}]` }));
      }
      return { type: typeOf(c.resultType, raw), value: raw, path: `${parent.path}.${key}` };
    }
    return undefined;
  };
}

const typeOf = (type: string, value: unknown): string =>
  type === 'Resource' && isResource(value) ? (value as Resource).resourceType : type;

/** Compiled checks of one element of a type schema. */
interface CompiledElement {
  key: string;
  /** min > 0: an absent value is "Missing required property". */
  required: boolean;
  /** A profile key inside a data type ("period.start"): read with getAll, several Founds. */
  nested: boolean;
  get(parent: TypedValueWithPath): Found | undefined;
  getAll(parent: TypedValueWithPath): Found[];
  /** The checks of one Found; false when the reference would stop looking at the others. */
  visit(found: Found, path: string, run: Run): boolean;
}

function compileElement(key: string, element: InternalSchemaElement, lookup: InternalTypeSchema | undefined): CompiledElement {
  const constraints = compileConstraints(element.constraints);
  const maxText = Number.isFinite(element.max) ? String(element.max) : '*';
  const slicing = element.slicing;
  const pattern = element.pattern;
  const fixed = element.fixed;
  const references = referenceCheck(element);
  const checkValue = valueCheck();
  // A profile key inside a data type (e.g. "period.start") is rare: read as the reference reads it.
  const nested = key.includes('.');
  return {
    key,
    required: element.min > 0,
    nested,
    get: nested ? () => undefined : buildGetter(key, lookup),
    getAll: (parent) => getNestedProperty(parent, key, { withPath: true }),
    visit(found, path, run) {
      if (!Array.isArray(found) && found.value === undefined) {
        if (element.min > 0) run.issues.push(createStructureIssue(found.path, 'Missing required property'));
        return false;
      }
      if (isEmptyObject(found)) {
        run.issues.push(createStructureIssue(path, 'Invalid empty value'));
        return false;
      }
      if (Array.isArray(found) !== element.isArray) {
        run.issues.push(createStructureIssue(path, element.isArray ? 'Expected array of values for property' : 'Expected single value for property'));
        return false;
      }
      const count = Array.isArray(found) ? found.length : 1;
      if (count < element.min || count > element.max) {
        run.issues.push(createStructureIssue(element.path, `Invalid number of values: expected ${element.min}..${maxText}, but found ${count}`));
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

/**
 * @medplum/core's isEmpty without its Object.keys array (one per value walked): null, undefined, '', an
 * array or string of length 0, an object with no own enumerable key.
 */
function isEmptyObject(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value === '';
  if (typeof value !== 'object') return false;
  if ('length' in value && (value as { length: number }).length > 0) return false;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
  return true;
}

/** A value's own checks: primitives by type (extensions of a primitive as an Element), others not empty. */
function valueCheck(): (value: TypedValueWithPath, run: Run) => void {
  return (value, run) => {
    if (!isPrimitiveType(value.type)) {
      if (isEmptyObject(value.value)) run.issues.push(createStructureIssue(value.path, 'Invalid empty non-primitive value'));
      return;
    }
    const check: PrimitiveCheck = primitiveCheck(value.type);
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

  constructor(
    private readonly schema: InternalTypeSchema,
    typeName: string,
  ) {
    const lookup = tryGetDataType(typeName);
    this.elements = Object.entries(schema.elements).map(([key, element]) => compileElement(key, element, lookup));
    const prefixes = Object.keys(schema.elements).filter((k) => k.endsWith('[x]')).map((k) => k.slice(0, -3));
    this.choices = new Map(prefixes.map((prefix) => [prefix, buildGetter(prefix, lookup)]));
  }

  /**
   * `path` is where the reference's walk is: the element path without indexes (it names cardinality
   * and slice problems), while each value carries its own path with indexes.
   */
  validateObject(obj: TypedValueWithPath, at: string, run: Run): void {
    const resource = isResource(obj.value);
    if (resource) run.resources.push(obj.value as Resource);
    for (const element of this.elements) {
      if (element.nested) {
        const path = `${at}.${element.key}`;
        const all = element.getAll(obj);
        for (const found of all) if (!element.visit(found, path, run)) break;
        for (const found of all) this.descend(found, path, run);
        continue;
      }
      const found = element.get(obj);
      if (found === undefined) {
        if (element.required) run.issues.push(createStructureIssue(`${obj.path}.${element.key}`, 'Missing required property'));
        continue;
      }
      const path = `${at}.${element.key}`;
      element.visit(found, path, run);
      this.descend(found, path, run);
    }
    this.checkAdditionalProperties(obj, run);
    if (resource) run.resources.pop();
  }

  /** Into every complex value, as the data type (or backbone type) it is. */
  private descend(found: Found, path: string, run: Run): void {
    if (Array.isArray(found)) {
      for (const value of found) if (!isPrimitiveType(value.type)) this.child(value.type).validateObject(value, path, run);
    } else if (found.value !== undefined && !isPrimitiveType(found.type)) {
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
    const choices: Record<string, string> = {};
    for (const key of Object.keys(object)) {
      if (key === 'resourceType') continue;
      const choice = this.choiceOf(parent, key);
      if (choice) {
        const extension = choice.startsWith('_');
        const related = extension ? choice.slice(1) : `_${choice}`;
        const requiredRelated = extension ? key.slice(1) : `_${key}`;
        if (related in choices && choices[related] !== requiredRelated) {
          const name = extension ? choice.slice(1) : choice;
          run.issues.push(createOperationOutcomeIssue('warning', 'structure', `Type of primitive extension does not match the type of property "${name}"`, choice));
        }
        if (choices[choice]) {
          run.issues.push(createOperationOutcomeIssue('warning', 'structure', `Conflicting choice of type properties: "${key}", "${choices[choice]}"`, key));
        }
        choices[choice] = key;
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

/** Keys whose choice prefix one compiled type remembers. */
const MAX_KEYS = 256;

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
