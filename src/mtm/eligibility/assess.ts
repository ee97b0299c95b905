/**
 * Gathers what the targeting criteria need for one patient (Conditions, medication records,
 * claims) and evaluates them.
 */
import type { Condition, ExplanationOfBenefit } from '@medplum/fhirtypes';
import type { RequestContext } from '../../interactions/types';
import { type CompiledClasses, coreChronicDiseaseGroups, drugClasses } from '../knowledge/knowledge';
import { activeMedicines, readMedicationRecords } from '../medications/active-medications';
import { ruleClassUrls } from '../review/rules';
import { type ConditionGroup, type EligibilityResult, evaluateEligibility } from './criteria';

const MAX_RECORDS = 2000;

export interface AssessOptions {
  asOf: number;
  drugManagementAtRisk?: boolean;
  /** Loaded once for a run over many patients (one look at the knowledge per run, not per patient). */
  groups?: ConditionGroup[];
  classes?: CompiledClasses;
}

export async function assessEligibility(ctx: RequestContext, patientId: string, options: AssessOptions): Promise<EligibilityResult> {
  const search = ctx.services.search;
  const query: Array<[string, string]> = [['patient', `Patient/${patientId}`]];
  const [conditions, claims, records, groups, { vocabulary }] = await Promise.all([
    search ? search.findMatches('Condition', query, { limit: MAX_RECORDS }) : [],
    search ? search.findMatches('ExplanationOfBenefit', query, { limit: MAX_RECORDS }) : [],
    readMedicationRecords(ctx, patientId),
    options.groups ?? coreChronicDiseaseGroups(ctx.services.repository),
    options.classes ?? drugClasses(ctx.services.repository, ruleClassUrls()),
  ]);
  const medicines = await activeMedicines(ctx, records, vocabulary, options.asOf);
  return evaluateEligibility(
    {
      patientId,
      conditions: conditions as Condition[],
      claims: claims as ExplanationOfBenefit[],
      medicines,
      anyMedicationRecord: records.statements.length + records.requests.length + records.dispenses.length > 0,
      drugManagementAtRisk: options.drugManagementAtRisk,
      asOf: options.asOf,
    },
    groups,
    ctx.services.config.mtm,
  );
}
