/** The reconciliation result as FHIR Parameters: the same shape from $reconcile and $smp-submit. */
import type { OperationOutcomeIssue, ParametersParameter } from '@medplum/fhirtypes';
import { ITEM_FLAGS, LIST_ITEM_FLAG } from '../medication-lists';
import { type ReconciledItem, summarise } from './compare';

export function itemParameter(item: ReconciledItem): ParametersParameter {
  const flag = ITEM_FLAGS[item.outcome];
  const part: ParametersParameter[] = [
    { name: 'medication', valueString: item.medication },
    { name: 'outcome', valueCoding: { system: LIST_ITEM_FLAG, code: flag.code, display: flag.display } },
  ];
  if (item.submitted?.id) part.push({ name: 'submitted', valueReference: { reference: `MedicationStatement/${item.submitted.id}` } });
  if (item.current?.id) part.push({ name: 'current', valueReference: { reference: `MedicationStatement/${item.current.id}` } });
  for (const difference of item.differences) part.push({ name: 'difference', valueString: difference });
  return { name: 'item', part };
}

export function summaryText(items: ReconciledItem[]): string {
  const counts = summarise(items);
  const changed = items
    .filter((i) => i.outcome === 'changed')
    .map((i) => `${i.medication} (${i.differences.join('; ')})`);
  const news = items.filter((i) => i.outcome === 'new').map((i) => i.medication);
  const ceased = items.filter((i) => i.outcome === 'ceased').map((i) => i.medication);
  const parts = [`${counts.unchanged} unchanged`, `${counts.changed} changed`, `${counts.new} new`, `${counts.ceased} ceased`];
  const details = [
    changed.length ? `changed: ${changed.join(', ')}` : '',
    news.length ? `new: ${news.join(', ')}` : '',
    ceased.length ? `ceased: ${ceased.join(', ')}` : '',
  ].filter(Boolean);
  return `Reconciliation: ${parts.join(', ')}${details.length ? `. ${details.join('. ')}` : ''}`;
}

export function summaryIssue(items: ReconciledItem[]): OperationOutcomeIssue {
  return { severity: 'information', code: 'informational', diagnostics: summaryText(items) };
}
