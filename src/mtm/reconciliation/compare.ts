/**
 * Compares a submitted medication list (typically at hospital discharge) with the list we hold:
 * medicines are matched by RxNorm code first, then by normalised name, and matched medicines are
 * compared on dose and frequency. Pure: no storage, so $reconcile and $smp-submit share it.
 */
import type { Dosage, MedicationStatement } from '@medplum/fhirtypes';
import { RXNORM } from '../medication-lists';

export type ReconciliationOutcome = 'unchanged' | 'changed' | 'new' | 'ceased';

export interface ReconciledItem {
  outcome: ReconciliationOutcome;
  /** The medicine, as people read it. */
  medication: string;
  /** The statement on the submitted list (absent for a ceased medicine). */
  submitted?: MedicationStatement;
  /** The matching statement on the list we hold (absent for a new medicine). */
  current?: MedicationStatement;
  /** What differs, e.g. "dose 10 mg -> 20 mg". */
  differences: string[];
}

export function rxnormCode(statement: MedicationStatement): string | undefined {
  return statement.medicationCodeableConcept?.coding?.find((c) => c.system === RXNORM && c.code)?.code;
}

export function medicationName(statement: MedicationStatement): string {
  const concept = statement.medicationCodeableConcept;
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? statement.medicationReference?.display ?? rxnormCode(statement) ?? 'unnamed medicine';
}

/** Lower case, accents folded, punctuation and repeated spaces removed. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.%/ ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function describeDose(dosage: Dosage | undefined): string | undefined {
  const quantity = dosage?.doseAndRate?.[0]?.doseQuantity;
  if (quantity?.value !== undefined) return `${quantity.value} ${quantity.unit ?? quantity.code ?? ''}`.trim();
  const range = dosage?.doseAndRate?.[0]?.doseRange;
  if (range) return `${range.low?.value ?? ''}-${range.high?.value ?? ''} ${range.high?.unit ?? range.low?.unit ?? ''}`.trim();
  return undefined;
}

function describeFrequency(dosage: Dosage | undefined): string | undefined {
  const repeat = dosage?.timing?.repeat;
  const code = dosage?.timing?.code;
  if (repeat?.frequency !== undefined || repeat?.period !== undefined) {
    const max = repeat.frequencyMax !== undefined ? `-${repeat.frequencyMax}` : '';
    return `${repeat.frequency ?? 1}${max} per ${repeat.period ?? 1} ${repeat.periodUnit ?? ''}`.trim();
  }
  if (code) return code.text ?? code.coding?.[0]?.code;
  return dosage?.asNeededBoolean ? 'as needed' : undefined;
}

/** Differences of dose and frequency; falls back to the dosage text when neither is structured. */
function dosageDifferences(current: MedicationStatement, submitted: MedicationStatement): string[] {
  const before = current.dosage?.[0];
  const after = submitted.dosage?.[0];
  const differences: string[] = [];
  const doseBefore = describeDose(before);
  const doseAfter = describeDose(after);
  if (doseBefore !== doseAfter) differences.push(`dose ${doseBefore ?? 'unspecified'} -> ${doseAfter ?? 'unspecified'}`);
  const freqBefore = describeFrequency(before);
  const freqAfter = describeFrequency(after);
  if (freqBefore !== freqAfter) differences.push(`frequency ${freqBefore ?? 'unspecified'} -> ${freqAfter ?? 'unspecified'}`);
  const structured = doseBefore ?? doseAfter ?? freqBefore ?? freqAfter;
  if (!structured && before?.text && after?.text && normaliseText(before.text) !== normaliseText(after.text)) {
    differences.push(`directions "${before.text}" -> "${after.text}"`);
  }
  return differences;
}

const STOPPED = new Set(['stopped', 'completed', 'not-taken', 'entered-in-error']);

export function compareMedicationLists(current: MedicationStatement[], submitted: MedicationStatement[]): ReconciledItem[] {
  const unmatched = new Set(current);
  const byCode = new Map<string, MedicationStatement>();
  const byName = new Map<string, MedicationStatement>();
  for (const statement of current) {
    const code = rxnormCode(statement);
    if (code && !byCode.has(code)) byCode.set(code, statement);
    const name = normaliseText(medicationName(statement));
    if (!byName.has(name)) byName.set(name, statement);
  }
  const take = (statement: MedicationStatement | undefined) => (statement && unmatched.has(statement) ? statement : undefined);

  const items: ReconciledItem[] = submitted.map((statement) => {
    const code = rxnormCode(statement);
    const match = take(code ? byCode.get(code) : undefined) ?? take(byName.get(normaliseText(medicationName(statement))));
    if (!match) return { outcome: 'new', medication: medicationName(statement), submitted: statement, differences: [] };
    unmatched.delete(match);
    // A discharge list may say outright that a medicine was stopped rather than leave it out.
    if (STOPPED.has(statement.status)) {
      return { outcome: 'ceased', medication: medicationName(statement), submitted: statement, current: match, differences: [] };
    }
    const differences = dosageDifferences(match, statement);
    return { outcome: differences.length ? 'changed' : 'unchanged', medication: medicationName(statement), submitted: statement, current: match, differences };
  });
  for (const statement of unmatched) {
    items.push({ outcome: 'ceased', medication: medicationName(statement), current: statement, differences: [] });
  }
  return items;
}

export function summarise(items: ReconciledItem[]): Record<ReconciliationOutcome, number> {
  const counts: Record<ReconciliationOutcome, number> = { unchanged: 0, changed: 0, new: 0, ceased: 0 };
  for (const item of items) counts[item.outcome]++;
  return counts;
}
