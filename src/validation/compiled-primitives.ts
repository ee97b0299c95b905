/**
 * Checks of one primitive value (JSON type, format, range), with exactly the rules and messages of
 * @medplum/core's validator, so that the compiled structural stage reports what the reference does.
 * The regexes and the calendar check are Medplum's own exports, not copies.
 */
import * as medplum from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on every call.
const { createStructureIssue, fhirTypeToJsType, isPrimitiveType, isValidCalendarDate, validationRegexes } = medplum;

const INTEGER_MIN = -2_147_483_648;
const INTEGER_MAX = 2_147_483_647;
const ONE_MB = 1024 * 1024;
const JS_TYPES = fhirTypeToJsType as Record<string, 'string' | 'number' | 'boolean' | undefined>;
const REGEXES = validationRegexes as Record<string, RegExp | undefined>;

/** One check per FHIR primitive type, built once: the type's branch is chosen at compile time. */
export type PrimitiveCheck = (value: unknown, path: string, issues: OperationOutcomeIssue[]) => void;

const checks = new Map<string, PrimitiveCheck>();
const byType = new Map<string, PrimitiveCheck | null>();
/** Type names remembered by primitiveOf: a nested resource's type name comes from the input. */
const MAX_TYPES = 1024;

/** The check of a primitive type, or null when the type is not primitive (@medplum/core's isPrimitiveType): one lookup per value. */
export function primitiveOf(type: string): PrimitiveCheck | null {
  let check = byType.get(type);
  if (check === undefined) {
    check = isPrimitiveType(type) ? primitiveCheck(type) : null;
    if (byType.size < MAX_TYPES) byType.set(type, check);
  }
  return check;
}

export function primitiveCheck(type: string): PrimitiveCheck {
  let check = checks.get(type);
  if (!check) {
    check = build(type);
    checks.set(type, check);
  }
  return check;
}

function build(type: string): PrimitiveCheck {
  const expected = JS_TYPES[type];
  if (!expected) return (_v, path, issues) => issues.push(createStructureIssue(path, `Invalid JSON type: ${type} is not a valid FHIR type`));
  const typeError = (value: unknown, path: string, issues: OperationOutcomeIssue[]): boolean => {
    if (typeof value === expected) return false;
    if (value !== null) issues.push(createStructureIssue(path, `Invalid JSON type: expected ${expected}, but got ${typeof value}`));
    return true;
  };
  if (type === 'base64Binary') {
    return (value, path, issues) => {
      if (typeError(value, path, issues)) return;
      checkBase64(value as string, path, issues);
    };
  }
  if (expected === 'string') {
    const regex = REGEXES[type];
    const calendar = type === 'date' || type === 'dateTime' || type === 'instant';
    return (value, path, issues) => {
      if (typeError(value, path, issues)) return;
      const s = value as string;
      if (!s.trim()) issues.push(createStructureIssue(path, 'String must contain non-whitespace content'));
      else if (s.length > ONE_MB) issues.push(createStructureIssue(path, 'String cannot be larger than 1 MB'));
      else if (regex && !regex.test(s)) issues.push(createStructureIssue(path, `Invalid ${type} format`));
      else if (calendar && !isValidCalendarDate(s)) issues.push(createStructureIssue(path, `Invalid ${type} value`));
    };
  }
  if (expected === 'number') {
    const integer = type === 'integer' || type === 'positiveInt' || type === 'unsignedInt';
    const min = type === 'integer' ? INTEGER_MIN : type === 'positiveInt' ? 1 : type === 'unsignedInt' ? 0 : undefined;
    return (value, path, issues) => {
      if (typeError(value, path, issues)) return;
      const n = value as number;
      if (!Number.isFinite(n)) issues.push(createStructureIssue(path, 'Invalid numeric value'));
      else if (integer && !Number.isInteger(n)) issues.push(createStructureIssue(path, 'Expected number to be an integer'));
      else if (min !== undefined && (n < min || n > INTEGER_MAX)) {
        issues.push(createStructureIssue(path, `Expected number to be in the range ${min}..${INTEGER_MAX}`));
      }
    };
  }
  return (value, path, issues) => void typeError(value, path, issues);
}

/** base64 alphabet and padding, and an approximate decoded size of at most 1 MB (Medplum's default). */
function checkBase64(s: string, path: string, issues: OperationOutcomeIssue[]): void {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const data = padding ? s.slice(0, -padding) : s;
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z\d+/]+$/.test(data)) {
    issues.push(createStructureIssue(path, 'Invalid base64Binary format'));
    return;
  }
  const bytes = Math.max(0, Math.floor((s.length * 3) / 4) - padding);
  if (bytes > ONE_MB) issues.push(createStructureIssue(path, `base64Binary exceeds ${ONE_MB} bytes`));
}
