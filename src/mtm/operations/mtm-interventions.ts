/**
 * Patient/{id}/$mtm-interventions?periodStart=&periodEnd=: the recommendations made to prescribers for
 * one patient in a period, each with its latest answer, and the counts CMS Part D reporting asks for.
 */
import type { CommunicationRequest, Communication, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../../fhir/outcome';
import { findMatches } from '../../interactions/conditional';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import { countInterventions, type Intervention, recommendationQuery, responseQuery } from '../interventions/counts';

export const MTM_INTERVENTIONS_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/Patient-mtm-interventions';
/** The most recommendations one patient's period may hold; beyond it the answer would be partial, so 400. */
const MAX = 10_000;
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

function dateParameter(parameters: Parameters, name: string): string {
  const p = parameterValue(parameters, name);
  const value = p?.valueDate ?? p?.valueString;
  if (!value || !DATE.test(value)) throw badRequest(`${name} must be a date (YYYY, YYYY-MM or YYYY-MM-DD)`, name);
  return value;
}

function interventionParameter(i: Intervention): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'recommendation', valueReference: { reference: `CommunicationRequest/${i.recommendation.id}` } },
    { name: 'authored', valueDateTime: i.recommendation.authoredOn },
    ...(i.recommendation.about ?? []).map((about) => ({ name: 'about', valueReference: { reference: about.reference } })),
  ];
  if (i.response) part.push({ name: 'response', valueReference: { reference: `Communication/${i.response.id}` } });
  if (i.answer) part.push({ name: 'answer', valueCode: i.answer });
  if (i.change) part.push({ name: 'change', valueCoding: i.change });
  return { name: 'intervention', part };
}

export const mtmInterventions: OperationHandler = {
  code: 'mtm-interventions',
  definition: MTM_INTERVENTIONS_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Patient'],
  allowGet: true,
  scopes: [
    { resourceType: 'Patient', permission: 'r' },
    { resourceType: 'CommunicationRequest', permission: 's' },
    { resourceType: 'Communication', permission: 's' },
  ],
  async invoke({ ctx, id, parameters }) {
    const start = dateParameter(parameters, 'periodStart');
    const end = dateParameter(parameters, 'periodEnd');
    const { resource: patient } = await ctx.services.repository.read('Patient', id as string);
    // A client that may not see this patient learns nothing, not even that the patient exists.
    if (!(await ctx.services.access.mayAccess(ctx.security, patient, 'r'))) throw notFound(`Patient/${id} is not known`);
    const subject = `Patient/${id}`;
    const recommendations = (await findMatches(ctx, 'CommunicationRequest', recommendationQuery(start, end, subject), MAX + 1)) as CommunicationRequest[];
    if (recommendations.length > MAX) throw badRequest(`More than ${MAX} recommendations in the period; ask for a shorter one`);
    const responses = (await findMatches(ctx, 'Communication', responseQuery(subject), MAX * 4)) as Communication[];
    const counts = countInterventions(recommendations, responses);
    const result: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'recommendations', valueInteger: counts.recommendations },
        { name: 'changes', valueInteger: counts.changes },
        ...counts.interventions.map(interventionParameter),
      ],
    };
    return { status: 200, headers: {}, body: result };
  },
};
