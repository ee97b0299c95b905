/**
 * SearchParameter FHIRPath expressions, narrowed to one resource type and compiled once.
 *
 * R4 expressions are unions over many types ("AllergyIntolerance.patient | CarePlan.subject... |
 * MedicationStatement.subject..."); evaluating every branch on every write would waste most of the
 * work, so each type keeps only its own branches. `resolve() is Patient` needs a resolver fhirpath.js
 * only offers asynchronously; at write time the reference's own type is what counts, so it becomes a
 * test on the reference text (or Reference.type).
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';

/** What a compiled expression returns with resolveInternalTypes off: nodes that know their FHIR type. */
export interface FhirNode {
  data: unknown;
  fhirNodeDataType?: string;
  path?: string;
}

export type CompiledExpression = (resource: object) => FhirNode[];

/** The top-level branches of a union expression (split on `|` outside parentheses and quotes). */
export function unionBranches(expression: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      branches.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  branches.push(expression.slice(start).trim());
  return branches.filter((b) => b.length > 0);
}

const GENERIC_ROOTS = new Set(['Resource', 'DomainResource']);

/** The expression's branches that apply to `type`, or undefined when none does. */
export function expressionForType(expression: string, type: string): string | undefined {
  const kept: string[] = [];
  for (const branch of unionBranches(expression)) {
    const root = /^\(*\s*([A-Z][A-Za-z0-9]*)\b/.exec(branch)?.[1];
    if (root === undefined || root === type) kept.push(branch);
    // The generic roots are rewritten: fhirpath.js matches a path's first step against the resource's type.
    else if (GENERIC_ROOTS.has(root)) kept.push(branch.replace(new RegExp(`^(\\(*\\s*)${root}\\b`), `$1${type}`));
  }
  return kept.length ? kept.map(withoutResolve).join(' | ') : undefined;
}

/** `x.where(resolve() is Patient)` keeps the references whose text or type names Patient. */
function withoutResolve(expression: string): string {
  return expression.replace(/resolve\(\)\s+is\s+([A-Z][A-Za-z0-9]*)/g, (_m, target: string) => `(${referenceTargetTest(target)})`);
}

function referenceTargetTest(target: string): string {
  return `reference.startsWith('${target}/') or reference.contains('/${target}/') or type = '${target}'`;
}

/** Recognises what referenceTargetTest writes (path-expressions.ts evaluates it directly); group 1 is the type. */
export const REFERENCE_TARGET_TEST = /^reference\.startsWith\('([A-Z][A-Za-z0-9]*)\/'\) or reference\.contains\('\/\1\/'\) or type = '\1'$/;

/** Compiles once; evaluation returns typed nodes. Throws when fhirpath.js cannot compile it. */
export function compileExpression(expression: string | { base: string; expression: string }): CompiledExpression {
  // fhirpath's model typing is looser than its runtime contract; the r4 model is what it expects.
  const fn = fhirpath.compile(expression, r4model as Parameters<typeof fhirpath.compile>[1], {
    resolveInternalTypes: false,
    // trace() would print resource content to the console; logs never carry patient data.
    traceFn: () => undefined,
  });
  return (resource: object) => fn(resource) as FhirNode[];
}
