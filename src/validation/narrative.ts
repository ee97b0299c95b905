/**
 * Finds every Narrative in a resource and checks its div against txt-1 and txt-2 (xhtml-rules.ts):
 * the resource's own text, its contained resources', Bundle entries', Parameters' resources' and
 * Composition sections'. In R4 every element named `text` that holds an object is a Narrative
 * (DomainResource.text, Composition.section.text; the other `text` elements are strings), so one
 * iterative walk over the JSON finds them all, however deep.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';
import { xhtmlProblems } from './xhtml-rules';

/** Past this many, more narrative issues in one resource are noise. */
const MAX_ISSUES = 20;

export function checkNarratives(resource: Record<string, unknown>, resourceType: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  // Many resources carry no narrative: find that out without building a path for every object.
  if (!holdsNarrative(resource)) return issues;
  const stack: { value: unknown; path: string }[] = [{ value: resource, path: resourceType }];
  while (stack.length && issues.length < MAX_ISSUES) {
    const { value, path } = stack.pop() as (typeof stack)[number];
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) if (isContainer(value[i])) stack.push({ value: value[i], path: `${path}[${i}]` });
    } else if (isContainer(value)) {
      const record = value as Record<string, unknown>;
      const text = record.text;
      if (isObject(text) && typeof text.div === 'string') {
        for (const problem of xhtmlProblems(text.div)) {
          issues.push(issue('error', problem.unsafe ? 'security' : 'invalid', `Narrative ${problem.rule}: ${problem.message}`, `${path}.text.div`));
        }
      }
      for (const key of Object.keys(record)) if (isContainer(record[key])) stack.push({ value: record[key], path: `${path}.${key}` });
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

/** Whether some object, at any depth, has a `text` object with a string `div`: what the walk above checks. */
function holdsNarrative(resource: Record<string, unknown>): boolean {
  const stack: unknown[] = [resource];
  while (stack.length) {
    const value = stack.pop() as object;
    if (Array.isArray(value)) {
      for (const item of value) if (isContainer(item)) stack.push(item);
      continue;
    }
    const record = value as Record<string, unknown>;
    const text = record.text;
    if (isObject(text) && typeof text.div === 'string') return true;
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      if (isContainer(record[key])) stack.push(record[key]);
    }
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isContainer(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
