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

/** A container being walked: its keys (an object; undefined for an array), and the next key or item to visit. */
interface Frame {
  container: Record<string, unknown> | unknown[];
  keys: string[] | undefined;
  next: number;
  path: string;
  /** For an array: the `_name` twin array its items pair with (or the reverse). */
  twin: unknown[] | undefined;
}

interface Walk {
  stack: Frame[];
  issues: OperationOutcomeIssue[];
  placeholders?: Set<string>;
}

/**
 * `placeholders`, when given, receives the paths of the nulls that rightly hold a place: the JSON
 * schema knows no twins and calls each of them a wrong type, so those reports are to be dropped.
 *
 * Depth first, in document order, one frame per object or array (not per value), and a value's
 * path built only when it is reported or walked into.
 */
export function checkJsonRules(resource: Record<string, unknown>, resourceType: string, placeholders?: Set<string>): OperationOutcomeIssue[] {
  const walk: Walk = { stack: [], issues: [], placeholders };
  const { stack, issues } = walk;
  visit(walk, resource, resourceType, undefined, -1, undefined);
  while (stack.length && issues.length < MAX_ISSUES) {
    const frame = stack[stack.length - 1];
    const keys = frame.keys;
    if (keys) {
      if (frame.next === keys.length) {
        stack.pop();
        continue;
      }
      const key = keys[frame.next++];
      const record = frame.container as Record<string, unknown>;
      const value = record[key];
      // ["a", null] with _given [null, {extension}]: each null stands for a value its twin carries.
      let paired: unknown[] | undefined;
      if (Array.isArray(value)) {
        const twin = record[key.startsWith('_') ? key.slice(1) : `_${key}`];
        if (Array.isArray(twin)) paired = twin;
      }
      visit(walk, value, frame.path, key, -1, paired);
    } else {
      const items = frame.container as unknown[];
      if (frame.next === items.length) {
        stack.pop();
        continue;
      }
      const i = frame.next++;
      visit(walk, items[i], frame.path, undefined, i, frame.twin);
    }
  }
  return issues;
}

/** The path of a value: its parent's with `.key` or `[index]`, or the parent's own for the resource. */
const pathOf = (parent: string, key: string | undefined, index: number): string => (key !== undefined ? `${parent}.${key}` : index >= 0 ? `${parent}[${index}]` : parent);

/** One value's rules; an object or array is pushed to be walked. twin and index: for an item of a primitive array, its `_name` twin and position. */
function visit(walk: Walk, value: unknown, parent: string, key: string | undefined, index: number, twin: unknown[] | undefined): void {
  if (value === null) {
    // A null holds a place only where its twin has something at the same index.
    const twinItem = twin && index >= 0 ? twin[index] : undefined;
    if (twinItem === undefined || twinItem === null) {
      const text = twin ? 'null holds a place in a primitive array only where its _ twin array has an item at the same index' : 'null is not allowed in FHIR JSON: leave the element out';
      walk.issues.push(issue('error', 'structure', text, pathOf(parent, key, index)));
    } else {
      walk.placeholders?.add(pathOf(parent, key, index));
    }
  } else if (typeof value === 'string') {
    if (value.length === 0) walk.issues.push(issue('error', 'value', 'An empty string is not allowed: leave the element out', pathOf(parent, key, index)));
    else if (!wellFormed(value)) walk.issues.push(issue('error', 'value', 'The string holds a lone UTF-16 surrogate: it is not valid Unicode', pathOf(parent, key, index)));
  } else if (typeof value === 'object') {
    const path = pathOf(parent, key, index);
    if (Array.isArray(value)) {
      if (value.length === 0) walk.issues.push(issue('error', 'structure', 'An empty array is not allowed: leave the element out', path));
      walk.stack.push({ container: value, keys: undefined, next: 0, path, twin });
    } else {
      const keys = Object.keys(value as Record<string, unknown>);
      if (keys.length === 0) walk.issues.push(issue('error', 'structure', 'An empty object is not allowed: leave the element out', path));
      walk.stack.push({ container: value as Record<string, unknown>, keys, next: 0, path, twin: undefined });
    }
  }
}
