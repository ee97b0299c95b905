/**
 * The FHIR JSON rules no schema states (R4 json.html): no `null`, except as a placeholder in a primitive
 * array whose `_name` twin has an item at the same index (["a", null] with _given [null, {extension}]),
 * no empty arrays, objects or strings, and no lone
 * UTF-16 surrogates (a string must be well-formed Unicode). One iterative walk, so neither depth
 * nor width of the input can exhaust the stack.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';

/** Past this many, more issues of this kind are noise. */
const MAX_ISSUES = 20;

const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * `placeholders`, when given, receives the paths of the nulls that rightly hold a place: the JSON
 * schema knows no twins and calls each of them a wrong type, so those reports are to be dropped.
 */
export function checkJsonRules(resource: Record<string, unknown>, resourceType: string, placeholders?: Set<string>): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  // twin: for an item of a primitive array, the array its `_name` twin pairs it with (or the reverse).
  const stack: { value: unknown; path: string; twin?: unknown[]; index?: number }[] = [{ value: resource, path: resourceType }];
  while (stack.length && issues.length < MAX_ISSUES) {
    const { value, path, twin, index } = stack.pop() as (typeof stack)[number];
    if (value === null) {
      // A null holds a place only where its twin has something at the same index.
      const twinItem = twin && index !== undefined ? twin[index] : undefined;
      if (twinItem === undefined || twinItem === null) {
        const text = twin ? 'null holds a place in a primitive array only where its _ twin array has an item at the same index' : 'null is not allowed in FHIR JSON: leave the element out';
        issues.push(issue('error', 'structure', text, path));
      } else {
        placeholders?.add(path);
      }
    } else if (typeof value === 'string') {
      if (value.length === 0) issues.push(issue('error', 'value', 'An empty string is not allowed: leave the element out', path));
      else if (!wellFormed(value)) issues.push(issue('error', 'value', 'The string holds a lone UTF-16 surrogate: it is not valid Unicode', path));
    } else if (Array.isArray(value)) {
      if (value.length === 0) issues.push(issue('error', 'structure', 'An empty array is not allowed: leave the element out', path));
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, twin, index: i });
    } else if (typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 0) issues.push(issue('error', 'structure', 'An empty object is not allowed: leave the element out', path));
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k];
        // ["a", null] with _given [null, {extension}]: each null stands for a value its twin carries.
        const twinKey = key.startsWith('_') ? key.slice(1) : `_${key}`;
        const paired = Array.isArray(record[key]) && Array.isArray(record[twinKey]) ? (record[twinKey] as unknown[]) : undefined;
        stack.push({ value: record[key], path: `${path}.${key}`, twin: paired });
      }
    }
  }
  return issues;
}
