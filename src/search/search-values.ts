/**
 * The syntax of search values (FHIR search.html): comma-separated alternatives with backslash
 * escapes, prefixes on ordered types, `system|code` tokens, numbers with their implicit precision.
 * Everything malformed is a 400 naming the parameter.
 */
import { badRequest } from '../fhir/outcome';

export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/** Longest value accepted, so that no input can make matching expensive. */
export const MAX_VALUE_LENGTH = 1024;
/** Longest :contains value: unanchored matching costs grow with it. */
export const MAX_CONTAINS_LENGTH = 256;

/** Splits on unescaped `separator`, keeping escapes for a later, finer split. */
export function splitUnescaped(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      current += ch + value[i + 1];
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** Removes the escapes `\,` `\|` `\$` `\\`. */
export function unescapeValue(value: string): string {
  return value.replace(/\\([,|$\\])/g, '$1');
}

/** The comma-separated alternatives of one parameter occurrence (an OR), escapes kept. */
export function alternatives(name: string, raw: string): string[] {
  if (raw.length > MAX_VALUE_LENGTH) throw badRequest(`The value of ${name} is longer than ${MAX_VALUE_LENGTH} characters`, name);
  // No FHIR value holds a NUL, and MongoDB refuses one inside a regular expression.
  if (raw.includes('\u0000')) throw badRequest(`The value of ${name} contains a NUL character`, name);
  return splitUnescaped(raw, ',');
}

/** Splits a leading prefix off an ordered value: "ge2024" -> ["ge", "2024"]. */
export function splitPrefix(name: string, value: string): [Prefix, string] {
  const m = /^([a-z]{2})(.*)$/s.exec(value);
  if (!m) return ['eq', value];
  if (!(PREFIXES as readonly string[]).includes(m[1])) {
    throw badRequest(`${name}: "${m[1]}" is not a search prefix; use one of ${PREFIXES.join(', ')}`, name);
  }
  return [m[1] as Prefix, m[2]];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export interface SearchNumber {
  value: number;
  /** The implicit range [lo, hi) given by the number of significant digits. */
  lo: number;
  hi: number;
}

/** "100" means [99.5, 100.5), "100.00" means [99.995, 100.005), "1e2" means [50, 150). */
export function parseSearchNumber(name: string, text: string): SearchNumber {
  if (!NUMBER.test(text)) throw badRequest(`${name}: "${text}" is not a number`, name);
  const value = Number(text);
  const [mantissa, exponent] = text.toLowerCase().split('e');
  const decimals = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  const half = 0.5 * 10 ** ((exponent ? Number(exponent) : 0) - decimals);
  return { value, lo: value - half, hi: value + half };
}

export interface TokenValue {
  system?: string;
  code?: string;
  /** True for "|code": the code must have no system. */
  noSystem: boolean;
}

/** `system|code`, `|code`, `system|` or `code`. */
export function parseToken(name: string, raw: string): TokenValue {
  const parts = splitUnescaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) return { code: parts[0], noSystem: false };
  if (parts.length !== 2) throw badRequest(`${name}: "${raw}" is not a token (system|code, |code, system| or code)`, name);
  const [system, code] = parts;
  if (!system && !code) throw badRequest(`${name}: "|" alone is not a token`, name);
  return { system: system || undefined, code: code || undefined, noSystem: system === '' };
}
