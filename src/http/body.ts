/**
 * Request bodies: JSON only, parsed once, refused when they could reach a Mongo operator or an
 * object merge (`$`-prefixed keys, __proto__, constructor, prototype), nest absurdly deep, or exceed
 * the resource size limits (413) before anything downstream (validation, storage) spends on them.
 */
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../fhir/outcome';
import type { FhirRequest } from '../interactions/types';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Far deeper than any FHIR resource nests, far shallower than what could exhaust the stack. */
export const MAX_DEPTH = 128;

export type BodyKind = NonNullable<FhirRequest['bodyKind']>;

/** What a Content-Type says the body is; XML and anything else unknown are refused with 415. */
export function bodyKindOf(contentType: string | undefined): BodyKind {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (mediaType) {
    case 'application/fhir+json':
    case 'application/json':
    case 'application/json+fhir':
      return 'resource';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/x-www-form-urlencoded':
      return 'form';
    case '':
      throw unsupportedMediaType('The request has a body but no Content-Type; send application/fhir+json');
    default:
      if (mediaType.includes('xml')) {
        throw unsupportedMediaType(`${mediaType} is not supported: this server speaks FHIR JSON only (application/fhir+json)`);
      }
      throw unsupportedMediaType(`Content-Type ${mediaType} is not supported; send application/fhir+json`);
  }
}

/** Per resource: each resource in a Bundle is counted on its own (the body as a whole is MAX_BODY_BYTES). */
export interface SizeLimits {
  maxArrayLength: number;
  maxResourceElements: number;
  maxStringLength: number;
}

const UNLIMITED: SizeLimits = { maxArrayLength: Infinity, maxResourceElements: Infinity, maxStringLength: Infinity };

export function parseJsonBody(raw: Buffer, limits: SizeLimits = UNLIMITED): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  assertSafe(value, limits);
  return value;
}

/**
 * Walks the parsed body iteratively (no recursion to overflow), refuses hostile keys, and counts
 * each resource's elements (every value, nested resources counted on their own).
 */
export function assertSafe(root: unknown, limits: SizeLimits = UNLIMITED): void {
  interface Scope {
    elements: number;
    path: string;
  }
  const stack: Array<{ value: unknown; depth: number; path: string; scope: Scope }> = [{ value: root, depth: 0, path: '', scope: { elements: 0, path: '' } }];
  while (stack.length) {
    const item = stack.pop()!;
    const { value, depth, path } = item;
    let { scope } = item;
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) {
        throw payloadTooLarge(`The string at ${path || 'the top'} is ${value.length} characters long; the limit is ${limits.maxStringLength}`, path || undefined);
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) throw badRequest(`The body nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayLength) {
        throw payloadTooLarge(`The array at ${path || 'the top'} has ${value.length} items; the limit is ${limits.maxArrayLength}`, path || undefined);
      }
      countElements(scope, value.length, limits);
      value.forEach((entry, i) => stack.push({ value: entry, depth: depth + 1, path: `${path}[${i}]`, scope }));
      continue;
    }
    if (typeof (value as { resourceType?: unknown }).resourceType === 'string') scope = { elements: 0, path };
    const keys = Object.keys(value);
    countElements(scope, keys.length, limits);
    for (const key of keys) {
      if (key.startsWith('$') || FORBIDDEN_KEYS.has(key)) {
        throw badRequest(`The body contains the forbidden key "${key}"${path ? ` at ${path}` : ''}`);
      }
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: path ? `${path}.${key}` : key, scope });
    }
  }
}

function countElements(scope: { elements: number; path: string }, added: number, limits: SizeLimits): void {
  scope.elements += added;
  if (scope.elements > limits.maxResourceElements) {
    const where = scope.path ? `The resource at ${scope.path}` : 'The resource';
    throw payloadTooLarge(`${where} has more than ${limits.maxResourceElements} elements`, scope.path || undefined);
  }
}
