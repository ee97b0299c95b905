/**
 * Invariants on the root of data types (Period per-1, Quantity qty-3, Range rng-2, Reference ref-1,
 * Timing tim-*, Extension ext-1, ...). Medplum evaluates constraints of elements and of the root
 * resource, never those of a data type used inside a resource, so we do it here, with fhirpath.js
 * expressions compiled once per (type, invariant).
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ConstraintEnv } from './constraints';
import { issue } from '../fhir/outcome';
import { typeInvariants } from './element-model';
import { compileSimpleRule } from './simple-fhirpath';

type Evaluator = (value: unknown, env: Record<string, unknown>) => unknown[];

interface CompiledInvariant {
  key: string;
  human: string;
  evaluate: Evaluator;
}

const compiled = new Map<string, CompiledInvariant[]>();
// ref-1 calls trace(); without this fhirpath.js would print to the console on every reference.
const silent = (): void => undefined;

function compileFor(type: string): CompiledInvariant[] {
  const result: CompiledInvariant[] = [];
  for (const inv of typeInvariants(type)) {
    // A presence rule (ext-1: extension.exists() != value.exists()) runs as a closure over the JSON.
    const simple = compileSimpleRule(inv.expression, 'fhirpath.js');
    if (simple) {
      result.push({ key: inv.key, human: inv.human, evaluate: (value) => [simple(value)] });
      continue;
    }
    try {
      const fn = fhirpath.compile({ base: type, expression: inv.expression }, r4model, { traceFn: silent });
      result.push({ key: inv.key, human: inv.human, evaluate: (value, env) => fn(value, env) as unknown[] });
    } catch {
      // An expression fhirpath.js cannot compile (e.g. htmlChecks() in txt-1) is skipped, not guessed.
    }
  }
  return result;
}

/**
 * Whether an invariant certainly holds without evaluating its FHIRPath: the common cases of the two
 * invariants met on nearly every resource. Evaluating ref-1 and per-1 through fhirpath.js was about
 * a quarter of validation time on transaction Bundles. Each shortcut gives exactly what the
 * expression gives (true, or empty, which never fails):
 * - ref-1 `reference.startsWith('#').not() or (...)`: true for a reference that is not '#…', empty
 *   when there is no reference;
 * - per-1 `start.hasValue().not() or end.hasValue().not() or (start <= end)`: never false when
 *   start or end is missing.
 */
function certainlyHolds(key: string, value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  if (key === 'ref-1') return record.reference === undefined || (typeof record.reference === 'string' && !record.reference.startsWith('#'));
  if (key === 'per-1') return record.start === undefined || record.end === undefined;
  return false;
}

/** Adds to `issues` one for each data-type invariant the value breaks. Only an explicit `false` fails. */
export function checkTypeInvariants(type: string, value: unknown, path: string, env: ConstraintEnv, issues: OperationOutcomeIssue[]): void {
  let invariants = compiled.get(type);
  if (!invariants) {
    invariants = compileFor(type);
    compiled.set(type, invariants);
  }
  for (const inv of invariants) {
    if (certainlyHolds(inv.key, value)) continue;
    let result: unknown[];
    try {
      result = inv.evaluate(value, env as unknown as Record<string, unknown>);
    } catch {
      continue;
    }
    if (result.length === 1 && result[0] === false) {
      issues.push(issue('error', 'invariant', `Constraint ${inv.key} not met: ${inv.human}`, path));
    }
  }
}
