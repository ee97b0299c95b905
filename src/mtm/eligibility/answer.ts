/** An eligibility result as the Parameters $mtm-eligibility answers. */
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { CriterionResult, EligibilityResult } from './criteria';

function criterionParameter(c: CriterionResult): ParametersParameter {
  const part: ParametersParameter[] = [{ name: 'code', valueCode: c.code }];
  if (typeof c.value === 'number') part.push(c.code === 'annual-drug-cost' ? { name: 'value', valueDecimal: c.value } : { name: 'value', valueInteger: c.value });
  if (typeof c.value === 'boolean') part.push({ name: 'value', valueBoolean: c.value });
  if (c.threshold !== undefined) part.push(c.code === 'annual-drug-cost' ? { name: 'threshold', valueDecimal: c.threshold } : { name: 'threshold', valueInteger: c.threshold });
  if (c.met !== undefined) part.push({ name: 'met', valueBoolean: c.met });
  part.push({ name: 'detail', valueString: c.detail });
  if (c.missing) part.push({ name: 'missing', valueString: c.missing });
  for (const ref of c.evidence) part.push({ name: 'evidence', valueReference: { reference: ref } });
  return { name: 'criterion', part };
}

/** The parameters of one patient's result: at instance level the whole answer, at system level one `result`'s parts. */
export function eligibilityParameters(result: EligibilityResult): ParametersParameter[] {
  const parameters: ParametersParameter[] = [
    { name: 'patient', valueReference: { reference: result.patient } },
    { name: 'determination', valueCode: result.determination },
  ];
  if (result.determination !== 'undetermined') parameters.push({ name: 'eligible', valueBoolean: result.determination === 'eligible' });
  parameters.push(...result.criteria.map(criterionParameter));
  return parameters;
}
