/**
 * How the compiled structural stage reads an element's values from a JSON object: the keys an
 * element's getter tries (its name, or one per type of a choice, each with its `_x` twin), decided
 * once per element; and @medplum/core's emptiness test without its allocations.
 */
import * as medplum from '@medplum/core';
import type { InternalTypeSchema, TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { TypedValueWithPath } from './compiled-constraints';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on every call.
const { getElementDefinitionFromElements, getTypedPropertyValueWithSchema, getTypedPropertyValueWithoutSchema, isResource } = medplum;

/** What an element holds in one parent: one value, an array of them, or a value whose `value` is undefined. */
export type Found = TypedValueWithPath | TypedValueWithPath[];
/**
 * How one element's values are read from its parent object (the JSON keys tried, in the schema's
 * type order); undefined when absent. `extended` false: the object has no `_x` key, none to look for.
 */
export type Getter = (parent: TypedValueWithPath, extended?: boolean) => Found | undefined;
/** A getter and the JSON keys it reads (undefined: it may read others, so it is always asked). */
export type Reader = { get: Getter; keys?: readonly string[] };

function withPath(tv: TypedValue | TypedValue[] | undefined, parentPath: string, key: string): Found | undefined {
  if (tv === undefined) return undefined;
  if (Array.isArray(tv)) return tv.map((v, i) => ({ type: v.type, value: v.value, path: `${parentPath}.${key}[${i}]` }));
  return { type: tv.type, value: tv.value, path: `${parentPath}.${key}` };
}

export function buildGetter(key: string, lookup: InternalTypeSchema | undefined): Reader {
  const ed = lookup ? getElementDefinitionFromElements(lookup.elements, key) : undefined;
  if (!ed) return { get: (parent) => withPath(parent.value ? getTypedPropertyValueWithoutSchema(parent, key) : undefined, parent.path, key) };
  if (!ed.type?.length) return { get: () => undefined, keys: [] };
  const last = ed.path.slice(ed.path.lastIndexOf('.') + 1);
  const choice = last.endsWith('[x]');
  const base = choice ? last.slice(0, -3) : last;
  const candidates = ed.type.map((t) => {
    const name = choice ? base + t.code[0].toUpperCase() + t.code.slice(1) : base;
    const resultType = t.code === 'Element' || t.code === 'BackboneElement' ? ed.type[0].code : t.code;
    return { name, extension: `_${name}`, resultType };
  });
  let get: Getter;
  if (candidates.length === 1) {
    // Most elements have one type: no loop over candidates.
    const { name, extension: twin, resultType } = candidates[0];
    get = (parent, extended) => {
      const obj = parent.value as Record<string, unknown> | undefined;
      if (!obj) return undefined;
      const raw = obj[name];
      const extension = extended === false ? undefined : obj[twin];
      if (raw === undefined && extension === undefined) return undefined;
      // Primitive extensions merge into the value: done by the reference's own code.
      if (extension) return withPath(getTypedPropertyValueWithSchema(parent, key, ed), parent.path, key);
      return foundOf(raw, resultType, parent.path, key);
    };
  } else {
    get = (parent, extended) => {
      const obj = parent.value as Record<string, unknown> | undefined;
      if (!obj) return undefined;
      for (const c of candidates) {
        const raw = obj[c.name];
        const extension = extended === false ? undefined : obj[c.extension];
        if (raw === undefined && extension === undefined) continue;
        if (extension) return withPath(getTypedPropertyValueWithSchema(parent, key, ed), parent.path, key);
        return foundOf(raw, c.resultType, parent.path, key);
      }
      return undefined;
    };
  }
  const keys = candidates.flatMap((c) => [c.name, c.extension]);
  // A key Object.prototype has ("constructor") is found on every object: such an element is always asked.
  return { get, keys: keys.some((k) => k in Object.prototype) ? undefined : keys };
}

const typeOf = (type: string, value: unknown): string =>
  type === 'Resource' && isResource(value) ? (value as Resource).resourceType : type;

/** The value(s) of a present element without primitive extensions: undefined when empty, else typed, each with its path. */
function foundOf(raw: unknown, resultType: string, parentPath: string, key: string): Found | undefined {
  if (isEmptyObject(raw)) return undefined;
  if (Array.isArray(raw)) {
    const prefix = `${parentPath}.${key}[`;
    return raw.map((v, i) => ({ type: typeOf(resultType, v), value: v, path: `${prefix}${i}]` }));
  }
  return { type: typeOf(resultType, raw), value: raw, path: `${parentPath}.${key}` };
}

/**
 * @medplum/core's isEmpty without its Object.keys array (one per value walked): null, undefined, '', an
 * array or string of length 0, an object with no own enumerable key.
 */
export function isEmptyObject(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value === '';
  if (typeof value !== 'object') return false;
  if ('length' in value && (value as { length: number }).length > 0) return false;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
  return true;
}
