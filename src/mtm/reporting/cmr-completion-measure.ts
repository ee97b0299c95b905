/**
 * The CMR completion rate (after the PQA measure; profiles/Measure-pqa-cmr-completion-rate.json) over
 * the period's MTM data: which patients fall in each population. Pure: the operation loads and answers.
 */
import { addMonths, localDate } from '../lifecycle/calendar';
import { cmrsReceived } from './part-d-record';
import type { PatientPeriodData, PeriodData } from './period-data';

export const CMR_COMPLETION_MEASURE = 'http://mtm-fhir.org/fhir/Measure/pqa-cmr-completion-rate';

export type PopulationCode = 'initial-population' | 'denominator' | 'denominator-exclusion' | 'numerator';
export const POPULATIONS: readonly PopulationCode[] = ['initial-population', 'denominator', 'denominator-exclusion', 'numerator'];

export interface MeasureResult {
  /** "Patient/id" of the members of each population. */
  members: Record<PopulationCode, string[]>;
  /** numerator / (denominator - exclusions); undefined when that is zero. */
  score?: number;
}

function adultBy(row: PatientPeriodData, end: string): boolean {
  const birth = row.patient.birthDate;
  return !!birth && addMonths(localDate(birth), 18 * 12) <= end;
}

export function evaluateCmrCompletion(data: PeriodData, onlyPatient?: string): MeasureResult {
  const members: Record<PopulationCode, string[]> = { 'initial-population': [], denominator: [], 'denominator-exclusion': [], numerator: [] };
  for (const row of data.patients) {
    const key = `Patient/${row.patient.id}`;
    if (onlyPatient && key !== onlyPatient) continue;
    if (!adultBy(row, data.period.end)) continue;
    members['initial-population'].push(key);
    members.denominator.push(key);
    if (row.hospice.length) {
      members['denominator-exclusion'].push(key);
      continue;
    }
    if (cmrsReceived(row, data.period).length) members.numerator.push(key);
  }
  const eligible = members.denominator.length - members['denominator-exclusion'].length;
  return { members, score: eligible > 0 ? members.numerator.length / eligible : undefined };
}
