/**
 * Constraints (invariants) for the compiled structural stage: each parsed once per element or
 * schema, simple ones as closures (simple-fhirpath.ts), the rest as pre-parsed FHIRPath (answered early
 * where early-answers.ts can) evaluated with the variables the reference sets, reporting as @medplum/core's validator does.
 */
import * as medplum from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema, TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { compileShortCircuit } from './early-answers';
import { compileSimpleRule } from './simple-fhirpath';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on every call.
const { createConstraintIssue, createProcessingIssue, evalFhirPathTyped, parseFhirPath, toTypedValue, UCUM } = medplum;

export type TypedValueWithPath = TypedValue & { path: string };

/** The state of one validation: its issues, the resource stack (for %resource) and the root. */
export interface Run {
  issues: OperationOutcomeIssue[];
  resources: Resource[];
  rootResource?: TypedValue;
}

type Evaluate = (value: TypedValueWithPath, run: Run) => boolean;

/** Constraint keys the reference never evaluates (ele-1: every element has content; dom-3: whole-resource walk). */
const SKIPPED = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const UCUM_VALUE = toTypedValue(UCUM);
const EMPTY: readonly never[] = [];

export interface CompiledConstraint {
  constraint: NonNullable<InternalSchemaElement['constraints']>[number];
  evaluate: Evaluate;
}

/** Error constraints, each parsed once; a parse failure is reported as the reference reports an evaluation failure. */
export function compileConstraints(constraints: InternalSchemaElement['constraints']): CompiledConstraint[] {
  const result: CompiledConstraint[] = [];
  for (const constraint of constraints ?? EMPTY) {
    if (constraint.severity !== 'error' || SKIPPED.has(constraint.key)) continue;
    const simple = compileSimpleRule(constraint.expression, 'medplum');
    if (simple) {
      result.push({ constraint, evaluate: (value) => simple(value.value) });
      continue;
    }
    const shortCircuit = compileShortCircuit(constraint.expression, 'medplum');
    let atom: ReturnType<typeof parseFhirPath> | undefined;
    let parseError: unknown;
    try {
      atom = parseFhirPath(constraint.expression);
    } catch (error) {
      parseError = error;
    }
    const evaluate: Evaluate = (value, run) => {
      const decided = shortCircuit?.(value.value);
      if (decided !== undefined) return decided;
      const variables: Record<string, TypedValue> = { '%context': value, '%ucum': UCUM_VALUE };
      const resource = run.resources[run.resources.length - 1];
      if (resource) variables['%resource'] = toTypedValue(resource);
      if (run.rootResource) variables['%rootResource'] = run.rootResource;
      try {
        if (!atom) throw parseError;
        const result = evalFhirPathTyped(atom, [value], variables);
        return result.length === 1 && result[0].value === true;
      } catch (error) {
        run.issues.push(createProcessingIssue(value.path, 'Error evaluating invariant expression', error as Error, { fhirpath: constraint.expression }));
        return false;
      }
    };
    result.push({ constraint, evaluate });
  }
  return result;
}

/** Only the first failing constraint of an element is reported, as the reference does. */
export function checkConstraints(constraints: readonly CompiledConstraint[], value: TypedValueWithPath, run: Run): void {
  for (const c of constraints) {
    if (!c.evaluate(value, run)) {
      run.issues.push(createConstraintIssue(value.path, c.constraint));
      return;
    }
  }
}

/** The root constraints of a schema, compiled once per schema. */
const rootConstraints = new WeakMap<InternalTypeSchema, CompiledConstraint[]>();
export function compiledRootConstraints(schema: InternalTypeSchema): CompiledConstraint[] {
  let constraints = rootConstraints.get(schema);
  if (!constraints) {
    constraints = compileConstraints(schema.constraints);
    rootConstraints.set(schema, constraints);
  }
  return constraints;
}
