/** Putting the stages' issues together into one list, one issue per problem. */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CHOICE_TYPE_NAMES } from './element-model';

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

/**
 * Later stages' issues minus those about a place the structural stage already reported: a value of
 * the wrong JSON type or an unknown property is one problem, however many stages trip over it
 * (Medplum's "additional property", its errors inside a string given for an object, an exception).
 */
export function withoutRepeats(later: OperationOutcomeIssue[], structural: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  if (structural.length === 0) return later;
  const places = structural.map((i) => i.expression?.[0]).filter((e): e is string => !!e).map(choiceForm);
  const covered = (raw: string | undefined): boolean => {
    if (!raw) return false;
    const expression = choiceForm(raw);
    return places.some((p) => expression === p || expression.startsWith(`${p}.`) || expression.startsWith(`${p}[`));
  };
  return later.filter((i) => i.code !== 'exception' && !covered(i.expression?.[0]));
}

/** "MedicationStatement.medicationCodeableConcept.coding" -> "MedicationStatement.medication[x].coding", as Medplum names it. */
function choiceForm(expression: string): string {
  return expression
    .split('.')
    .map((segment) => {
      const key = segment.replace(/\[\d+\]$/, '');
      for (let i = 1; i < key.length; i++) {
        if (key[i] >= 'A' && key[i] <= 'Z' && CHOICE_TYPE_NAMES.has(key.slice(i))) return `${key.slice(0, i)}[x]${segment.slice(key.length)}`;
      }
      return segment;
    })
    .join('.');
}
