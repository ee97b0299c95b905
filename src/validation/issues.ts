/** Putting the stages' issues together into one list, one issue per problem. */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** target.push(...items) without spreading: a spread of an input-sized array overflows the stack (~120k items). */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/**
 * Drops what another stage says better, then duplicates:
 * - Medplum's reference-type warnings (stage 3 checks reference targets, as errors);
 * - Medplum's "additional property" and "missing" for a choice value a profile does not allow
 *   (stage 3 reports it once, saying which types are allowed);
 * - the same severity, location and message reported twice (e.g. by two applicable profiles).
 */
export function mergeIssues(
  stage2: OperationOutcomeIssue[],
  stage3: OperationOutcomeIssue[],
  narrowed: { expression: string; choice: string }[],
): OperationOutcomeIssue[] {
  const hidden = new Set(narrowed.flatMap((n) => [n.expression, n.choice]));
  const kept = stage2.filter((i) => {
    const text = i.diagnostics ?? '';
    if (text.startsWith('Invalid reference')) return false;
    return !hidden.has(i.expression?.[0] ?? '');
  });
  const seen = new Set<string>();
  return [...kept, ...stage3].filter((i) => {
    const key = `${i.severity}|${i.expression?.[0] ?? ''}|${i.diagnostics}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
