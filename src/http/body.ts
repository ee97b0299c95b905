/**
 * Request bodies: JSON only, parsed once, refused when they could reach a Mongo operator or an
 * object merge (`$`-prefixed keys, __proto__, constructor, prototype) or nest absurdly deep.
 */
import { badRequest, unsupportedMediaType } from '../fhir/outcome';
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

export function parseJsonBody(raw: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  assertSafe(value);
  return value;
}

/** Walks the parsed body iteratively (no recursion to overflow) and refuses hostile keys. */
export function assertSafe(root: unknown): void {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: root, depth: 0, path: '' }];
  while (stack.length) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) throw badRequest(`The body nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (key.startsWith('$') || FORBIDDEN_KEYS.has(key)) {
        throw badRequest(`The body contains the forbidden key "${key}"${path ? ` at ${path}` : ''}`);
      }
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: path ? `${path}.${key}` : key });
    }
  }
}
