/**
 * Constraints (invariants) of a resource's root and of the elements a profile constrains, every one
 * of them evaluated and every failure reported. @medplum/core's validator stops at the first failing
 * constraint of an element and never reports those of severity "warning", so a client would fix a
 * Task one invariant per round trip, and the warnings our profiles use to say what MTM needs beyond
 * HL7 SMP (DESIGN.md decision 10) would never be seen. Expressions are compiled once with fhirpath.js.
 *
 * Which constraints: errors always; warnings only those a profile of ours added (`source` is not
 * an HL7 definition): the R4 base's best-practice warnings (dom-6 "should have narrative") are the
 * HL7 validator's business, not a write's.
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import type { ElementDefinitionConstraint, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';
import { compileSimpleRule } from './simple-fhirpath';

export interface CompiledConstraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  evaluate(value: unknown, env: Record<string, unknown>): unknown[];
}

/** What a constraint may refer to: %resource, the resource the element is in; %rootResource, the outermost one. */
export interface ConstraintEnv {
  resource: unknown;
  rootResource: unknown;
}

/**
 * Keys never evaluated here: ele-1 (every element has a value or children: the structural stage's
 * empty-value rule), dom-3 (contained resources are referenced: an expensive whole-resource walk,
 * as Medplum also skips it), and those fhirpath.js cannot evaluate (txt-1 and txt-2 use
 * htmlChecks(), done by the narrative check instead).
 */
const SKIPPED = new Set(['ele-1', 'dom-3', 'txt-1', 'txt-2', 'org-1', 'sdf-19']);
const HL7 = 'http://hl7.org/fhir/StructureDefinition/';
// ref-1 calls trace(); without this fhirpath.js would print to the console on every reference.
const silent = (): void => undefined;
const cache = new Map<string, CompiledConstraint | null>();

function compileOne(base: string, c: ElementDefinitionConstraint): CompiledConstraint | undefined {
  const cacheKey = `${base}\u0000${c.key}\u0000${c.expression}`;
  const hit = cache.get(cacheKey);
  if (hit !== undefined) return hit ?? undefined;
  let compiled: CompiledConstraint | null = null;
  // A presence rule (a.exists() or b.exists(), ...) runs as a closure over the JSON, as fhirpath.js would answer it.
  const simple = compileSimpleRule(c.expression as string, 'fhirpath.js');
  if (simple) {
    compiled = {
      key: c.key as string,
      severity: c.severity === 'warning' ? 'warning' : 'error',
      human: c.human ?? '',
      evaluate: (value) => [simple(value)],
    };
    cache.set(cacheKey, compiled);
    return compiled;
  }
  try {
    const fn = fhirpath.compile({ base, expression: c.expression as string }, r4model, { traceFn: silent });
    compiled = {
      key: c.key as string,
      severity: c.severity === 'warning' ? 'warning' : 'error',
      human: c.human ?? '',
      evaluate: (value, env) => fn(value, env) as unknown[],
    };
  } catch {
    // An expression fhirpath.js cannot compile is skipped, not guessed.
  }
  cache.set(cacheKey, compiled);
  return compiled ?? undefined;
}

/** The constraints of one element definition worth evaluating, compiled against its path. */
export function compileConstraints(base: string, constraints: readonly ElementDefinitionConstraint[] | undefined): CompiledConstraint[] {
  const result: CompiledConstraint[] = [];
  for (const c of constraints ?? []) {
    if (!c.key || !c.expression || SKIPPED.has(c.key)) continue;
    if (c.severity !== 'error' && (c.source === undefined || c.source.startsWith(HL7))) continue;
    const compiled = compileOne(base, c);
    if (compiled) result.push(compiled);
  }
  return result;
}

/**
 * Issues for every constraint the value breaks. An error fails on anything but `true`... except
 * an empty result, which FHIRPath's three-valued logic leaves unknown: only an explicit `false`
 * fails, as the HL7 validator does.
 */
export function evaluateConstraints(
  constraints: readonly CompiledConstraint[],
  value: unknown,
  path: string,
  env: ConstraintEnv,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const c of constraints) {
    let result: unknown[];
    try {
      result = c.evaluate(value, env as unknown as Record<string, unknown>);
    } catch {
      continue;
    }
    if (result.length === 1 && result[0] === false) {
      const text = c.severity === 'error' ? `Constraint ${c.key} not met: ${c.human}` : `${c.key}: ${c.human}`;
      issues.push(issue(c.severity, 'invariant', text, path));
    }
  }
  return issues;
}
