/**
 * The CMS Part D MTM targeting criteria (42 CFR 423.153(d)(2)): a beneficiary qualifies with at
 * least N core chronic diseases, at least M Part D maintenance drugs and an annual drug cost at the
 * threshold, or by being at risk under a drug management program. Each criterion is met, not met,
 * or unknown when the data to judge it is not held: missing data is said, never guessed.
 */
import type { Condition, ExplanationOfBenefit } from '@medplum/fhirtypes';
import type { ServerConfig } from '../../config';
import type { Medicine } from '../medications/active-medications';

export type CriterionCode = 'core-chronic-diseases' | 'part-d-drugs' | 'annual-drug-cost' | 'drug-management-program';

export interface CriterionResult {
  code: CriterionCode;
  value?: number | boolean;
  threshold?: number;
  /** Undefined when the data to decide is missing. */
  met?: boolean;
  detail: string;
  /** "Type/id" of the resources that count. */
  evidence: string[];
  missing?: string;
}

export type Determination = 'eligible' | 'not-eligible' | 'undetermined';

export interface EligibilityResult {
  patient: string;
  determination: Determination;
  criteria: CriterionResult[];
}

export interface ConditionGroup {
  code: string;
  display: string;
  /** Whether a Condition's coding is in the group. */
  has(system: string | undefined, code: string): boolean;
}

export interface PatientEvidence {
  patientId: string;
  conditions: Condition[];
  medicines: Medicine[];
  /** Whether any medication record (active or not) is held at all. */
  anyMedicationRecord: boolean;
  claims: ExplanationOfBenefit[];
  /** The caller's word on drug management program status; undefined when not given. */
  drugManagementAtRisk?: boolean;
  /** The evaluation date (epoch ms): the cost year is its calendar year. */
  asOf: number;
}

const INACTIVE_CLINICAL = new Set(['inactive', 'resolved', 'remission']);
const NOT_TRUE = new Set(['refuted', 'entered-in-error']);

export function isActiveCondition(c: Condition): boolean {
  const clinical = c.clinicalStatus?.coding?.map((x) => x.code) ?? [];
  const verification = c.verificationStatus?.coding?.map((x) => x.code) ?? [];
  if (clinical.some((code) => code && INACTIVE_CLINICAL.has(code))) return false;
  if (verification.some((code) => code && NOT_TRUE.has(code))) return false;
  return !c.abatementDateTime && !c.abatementPeriod && !c.abatementString && !c.abatementAge;
}

function chronicDiseases(evidence: PatientEvidence, groups: readonly ConditionGroup[], threshold: number): CriterionResult {
  const result: CriterionResult = { code: 'core-chronic-diseases', threshold, detail: '', evidence: [] };
  const active = evidence.conditions.filter(isActiveCondition);
  const found = new Map<string, string>();
  for (const condition of active) {
    for (const group of groups) {
      if (condition.code?.coding?.some((c) => c.code && group.has(c.system, c.code))) {
        found.set(group.code, group.display);
        result.evidence.push(`Condition/${condition.id}`);
      }
    }
  }
  result.value = found.size;
  result.evidence = [...new Set(result.evidence)];
  result.detail = found.size ? `Core chronic diseases found: ${[...found.values()].join(', ')}` : 'No core chronic disease found among the active conditions';
  if (evidence.conditions.length === 0) {
    result.missing = 'No Condition resources are held for this patient';
    if (found.size < threshold) return result;
  }
  result.met = found.size >= threshold;
  return result;
}

function partDDrugs(evidence: PatientEvidence, threshold: number): CriterionResult {
  const count = evidence.medicines.length;
  const result: CriterionResult = {
    code: 'part-d-drugs',
    value: count,
    threshold,
    detail: `${count} distinct active medicines (MedicationStatement, MedicationRequest and MedicationDispense counted once each); every active medicine counts, since no public list of Part D maintenance drugs is held`,
    evidence: evidence.medicines.flatMap((m) => m.records),
  };
  if (!evidence.anyMedicationRecord) {
    result.missing = 'No MedicationStatement, MedicationRequest or MedicationDispense is held for this patient';
    return result;
  }
  result.met = count >= threshold;
  return result;
}

/** The claim's gross drug cost: the "submitted" total, else the "benefit" total. */
function claimCost(eob: ExplanationOfBenefit): number | undefined {
  const total = (category: string) => eob.total?.find((t) => t.category?.coding?.some((c) => c.code === category))?.amount?.value;
  return total('submitted') ?? total('benefit');
}

function annualCost(evidence: PatientEvidence, threshold: number): CriterionResult {
  const year = new Date(evidence.asOf).getUTCFullYear();
  const inYear = evidence.claims.filter((eob) => {
    const when = eob.billablePeriod?.start ?? eob.created;
    return eob.status !== 'entered-in-error' && when !== undefined && new Date(Date.parse(when)).getUTCFullYear() === year;
  });
  const costed = inYear.map((eob) => ({ eob, cost: claimCost(eob) })).filter((c): c is { eob: ExplanationOfBenefit; cost: number } => c.cost !== undefined);
  const sum = Math.round(costed.reduce((a, c) => a + c.cost, 0) * 100) / 100;
  const result: CriterionResult = {
    code: 'annual-drug-cost',
    value: sum,
    threshold,
    detail: `Drug cost in ${year} from ${costed.length} claim(s) (ExplanationOfBenefit total "submitted", else "benefit"): ${sum.toFixed(2)} USD`,
    evidence: costed.map((c) => `ExplanationOfBenefit/${c.eob.id}`),
  };
  if (costed.length === 0) {
    result.missing = `No claims data (ExplanationOfBenefit with a cost total) is held for ${year}`;
    return result;
  }
  result.met = sum >= threshold;
  return result;
}

function drugManagement(evidence: PatientEvidence): CriterionResult {
  const known = evidence.drugManagementAtRisk;
  return {
    code: 'drug-management-program',
    value: known,
    met: known,
    detail: known === undefined ? 'Drug management program status was not given' : `At risk under a drug management program: ${known ? 'yes' : 'no'}`,
    evidence: [],
    ...(known === undefined ? { missing: 'Drug management program at-risk status is not held; give it as the drug-management-program-at-risk parameter' } : {}),
  };
}

export function evaluateEligibility(evidence: PatientEvidence, groups: readonly ConditionGroup[], config: ServerConfig['mtm']): EligibilityResult {
  const core = [chronicDiseases(evidence, groups, config.minChronicDiseases), partDDrugs(evidence, config.minPartDDrugs), annualCost(evidence, config.annualCostThreshold)];
  const dmp = drugManagement(evidence);
  let determination: Determination;
  if (dmp.met === true || core.every((c) => c.met === true)) determination = 'eligible';
  else if (core.some((c) => c.met === false) && dmp.met === false) determination = 'not-eligible';
  else determination = 'undetermined';
  return { patient: `Patient/${evidence.patientId}`, determination, criteria: [...core, dmp] };
}
