/**
 * The FHIR JSON rules no schema states (R4 json.html): no `null` (a placeholder in a primitive array
 * whose `_name` twin extends it is left to the JSON schema stage), no empty arrays, objects or strings, and no lone
 * UTF-16 surrogates (a string must be well-formed Unicode). One iterative walk, so neither depth
 * nor width of the input can exhaust the stack.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';

/** Past this many, more issues of this kind are noise. */
const MAX_ISSUES = 20;

const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

export function checkJsonRules(resource: Record<string, unknown>, resourceType: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const stack: { value: unknown; path: string; nullAllowed: boolean }[] = [{ value: resource, path: resourceType, nullAllowed: false }];
  while (stack.length && issues.length < MAX_ISSUES) {
    const { value, path, nullAllowed } = stack.pop() as (typeof stack)[number];
    if (value === null) {
      if (!nullAllowed) issues.push(issue('error', 'structure', 'null is not allowed in FHIR JSON: leave the element out', path));
    } else if (typeof value === 'string') {
      if (value.length === 0) issues.push(issue('error', 'value', 'An empty string is not allowed: leave the element out', path));
      else if (!wellFormed(value)) issues.push(issue('error', 'value', 'The string holds a lone UTF-16 surrogate: it is not valid Unicode', path));
    } else if (Array.isArray(value)) {
      if (value.length === 0) issues.push(issue('error', 'structure', 'An empty array is not allowed: leave the element out', path));
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, nullAllowed });
    } else if (typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 0) issues.push(issue('error', 'structure', 'An empty object is not allowed: leave the element out', path));
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k];
        // ["a", null] with _given [null, {extension}]: each null stands for a value its twin carries.
        const twin = key.startsWith('_') ? key.slice(1) : `_${key}`;
        const pairedArray = Array.isArray(record[key]) && Array.isArray(record[twin]);
        stack.push({ value: record[key], path: `${path}.${key}`, nullAllowed: pairedArray });
      }
    }
  }
  return issues;
}
