/**
 * Patient/{id}/$mtm-eligibility (GET or POST): the CMS Part D MTM targeting criteria for one
 * patient, each criterion's value, threshold and evidence, and what data is missing. POST with
 * enroll=true enrols an eligible patient (EpisodeOfCare, profile mtm-program-enrolment).
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, outcome } from '../../fhir/outcome';
import type { OperationHandler } from '../../interactions/operations/registry';
import type { RequestContext, ScopeRequirement } from '../../interactions/types';
import { eligibilityParameters } from '../eligibility/answer';
import { assessEligibility, type AssessOptions } from '../eligibility/assess';
import type { EligibilityResult } from '../eligibility/criteria';
import { enrol } from '../eligibility/enrolment';
import { booleanInput, dateInput } from './inputs';
import { readPatient } from './patient-access';

export const MTM_ELIGIBILITY_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/Patient-mtm-eligibility';

/** What eligibility reads: the patient's conditions, medication records and claims. */
export const ELIGIBILITY_SCOPES: ScopeRequirement[] = [
  { resourceType: 'Patient', permission: 'r' },
  { resourceType: 'Condition', permission: 'r' },
  { resourceType: 'MedicationStatement', permission: 'r' },
  { resourceType: 'MedicationRequest', permission: 'r' },
  { resourceType: 'MedicationDispense', permission: 'r' },
  { resourceType: 'ExplanationOfBenefit', permission: 'r' },
];

export interface EligibilityRequest {
  options: AssessOptions;
  enroll: boolean;
  date: string;
}

export function eligibilityRequest(ctx: RequestContext, method: string, parameters: Parameters): EligibilityRequest {
  const date = dateInput(parameters, 'date');
  const enroll = booleanInput(parameters, 'enroll') ?? false;
  if (enroll && method !== 'POST') throw badRequest('enroll=true changes data: use POST', 'enroll');
  if (enroll) ctx.services.access.requireScope(ctx.security, 'EpisodeOfCare', 'c');
  // The evaluation is as of the end of the given day.
  const options = { asOf: Date.parse(`${date}T23:59:59.999Z`), drugManagementAtRisk: booleanInput(parameters, 'drug-management-program-at-risk') };
  return { options, enroll, date };
}

/** Enrols the patient when asked and eligible; the parameters that say what happened. */
export async function enrolIfAsked(ctx: RequestContext, result: EligibilityResult, request: EligibilityRequest): Promise<ParametersParameter[]> {
  if (!request.enroll) return [];
  if (result.determination !== 'eligible') {
    return [{ name: 'enrolment-outcome', valueString: `Not enrolled: the determination is ${result.determination}` }];
  }
  const { episode, created } = await enrol(ctx, result.patient.split('/')[1], request.date);
  return [
    { name: 'enrolment', valueReference: { reference: `EpisodeOfCare/${episode.id}` } },
    { name: 'enrolment-outcome', valueString: created ? `Enrolled from ${episode.period?.start}` : `Already enrolled since ${episode.period?.start}` },
  ];
}

export const mtmEligibility: OperationHandler = {
  code: 'mtm-eligibility',
  definition: MTM_ELIGIBILITY_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Patient'],
  allowGet: true,
  scopes: ELIGIBILITY_SCOPES,
  async invoke({ ctx, req, id, parameters }) {
    const request = eligibilityRequest(ctx, req.method, parameters);
    const patient = await readPatient(ctx, id);
    const result = await assessEligibility(ctx, patient.id as string, request.options);
    const missing = result.criteria.filter((c) => c.missing).map((c) => c.missing as string);
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        ...eligibilityParameters(result),
        ...(await enrolIfAsked(ctx, result, request)),
        {
          name: 'outcome',
          resource: outcome([
            { severity: 'information', code: 'informational', diagnostics: `Determination: ${result.determination}` },
            ...missing.map((m) => ({ severity: 'warning' as const, code: 'incomplete' as const, diagnostics: m })),
          ]),
        },
      ],
    };
    return { status: 200, headers: {}, body };
  },
};
