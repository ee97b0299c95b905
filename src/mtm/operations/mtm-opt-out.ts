/**
 * Patient/{id}/$mtm-opt-out (POST): ends the patient's MTM program enrolment with the CMS
 * opt-out reason (01 death, 02 disenrollment, 03 beneficiary request, 99 other) on `date`.
 */
import { badRequest, notFound } from '../../fhir/outcome';
import type { OperationHandler } from '../../interactions/operations/registry';
import { activeEnrolment, OPT_OUT_REASONS, optOut } from '../eligibility/enrolment';
import { codeInput, dateInput } from './inputs';
import { readPatient } from './patient-access';

export const MTM_OPT_OUT_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/Patient-mtm-opt-out';

export const mtmOptOut: OperationHandler = {
  code: 'mtm-opt-out',
  definition: MTM_OPT_OUT_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Patient'],
  allowGet: false,
  scopes: [
    { resourceType: 'Patient', permission: 'r' },
    { resourceType: 'EpisodeOfCare', permission: 'r' },
    { resourceType: 'EpisodeOfCare', permission: 'u' },
  ],
  async invoke({ ctx, id, parameters }) {
    const reason = codeInput(parameters, 'reason');
    if (!reason || !OPT_OUT_REASONS[reason]) {
      throw badRequest(`The reason parameter must be a CMS opt-out reason: ${Object.entries(OPT_OUT_REASONS).map(([c, d]) => `${c} (${d})`).join(', ')}`, 'reason');
    }
    const date = dateInput(parameters, 'date');
    const patient = await readPatient(ctx, id);
    const episode = await activeEnrolment(ctx, patient.id as string);
    if (!episode) throw notFound(`Patient/${patient.id} has no active MTM program enrolment`);
    if (episode.period?.start && date < episode.period.start.slice(0, 10)) {
      throw badRequest(`The opt-out date ${date} is before the enrolment date ${episode.period.start}`, 'date');
    }
    const ended = await optOut(ctx, episode, reason, date);
    return { status: 200, headers: {}, body: ended };
  },
};
