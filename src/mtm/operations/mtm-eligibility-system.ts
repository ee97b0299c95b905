/**
 * [base]/$mtm-eligibility (POST, or GET without enrolment): the targeting criteria over many
 * patients, the `patient` parameters or else every patient the client may see. Over
 * MTM_ELIGIBILITY_SYNC_LIMIT patients it needs `Prefer: respond-async`: the answer is then 202 with
 * a status URL ([base]/$mtm-eligibility-status/{job}) that answers 202 with X-Progress while running
 * and 200 with a batch-response Bundle holding the Parameters when done.
 */
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError, issue, notFound } from '../../fhir/outcome';
import type { OperationHandler } from '../../interactions/operations/registry';
import type { FhirResponse, RequestContext } from '../../interactions/types';
import { eligibilityParameters } from '../eligibility/answer';
import { assessEligibility } from '../eligibility/assess';
import type { Determination } from '../eligibility/criteria';
import { findJob, startJob } from '../eligibility/jobs';
import { coreChronicDiseaseGroups, drugClasses } from '../knowledge/knowledge';
import { ruleClassUrls } from '../review/rules';
import { patientInputs } from './inputs';
import { ELIGIBILITY_SCOPES, type EligibilityRequest, eligibilityRequest, enrolIfAsked } from './mtm-eligibility';

export const MTM_ELIGIBILITY_SYSTEM_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/mtm-eligibility';
export const MTM_ELIGIBILITY_STATUS_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/mtm-eligibility-status';

/** Most patients one system-level run covers. */
const MAX_POPULATION = 1_000_000;

/** The patients to assess: those named, or every stored patient; only those the client may see. */
async function population(ctx: RequestContext, named: string[]): Promise<string[]> {
  let ids = named;
  if (ids.length === 0) {
    ids = ctx.services.search ? (await ctx.services.search.idsMatching('Patient', {}, MAX_POPULATION)).sort() : [];
  }
  const allowed = await ctx.services.access.patientIds(ctx.security);
  return [...new Set(ids)].filter((id) => !allowed || allowed.has(id));
}

async function run(ctx: RequestContext, ids: string[], request: EligibilityRequest, progress?: (done: number) => void): Promise<Parameters> {
  const groups = await coreChronicDiseaseGroups(ctx.services.repository);
  const classes = await drugClasses(ctx.services.repository, ruleClassUrls());
  const counts: Record<Determination, number> = { eligible: 0, 'not-eligible': 0, undetermined: 0 };
  const results: ParametersParameter[] = [];
  let done = 0;
  for (const id of ids) {
    const doc = await ctx.services.repository.readDocument('Patient', id);
    if (doc?.resource) {
      const result = await assessEligibility(ctx, id, { ...request.options, groups, classes });
      counts[result.determination]++;
      results.push({ name: 'result', part: [...eligibilityParameters(result), ...(await enrolIfAsked(ctx, result, request))] });
    } else {
      results.push({ name: 'result', part: [{ name: 'patient', valueReference: { reference: `Patient/${id}` } }, { name: 'missing', valueString: 'No such patient' }] });
    }
    progress?.(++done);
  }
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'total', valueInteger: ids.length },
      { name: 'eligible', valueInteger: counts.eligible },
      { name: 'not-eligible', valueInteger: counts['not-eligible'] },
      { name: 'undetermined', valueInteger: counts.undetermined },
      ...results,
    ],
  };
}

const prefersAsync = (prefer: string | undefined): boolean => (prefer ?? '').split(/[,;]/).some((p) => p.trim().toLowerCase() === 'respond-async');

export const mtmEligibilitySystem: OperationHandler = {
  code: 'mtm-eligibility',
  definition: MTM_ELIGIBILITY_SYSTEM_DEFINITION,
  levels: ['system'],
  allowGet: true,
  scopes: ELIGIBILITY_SCOPES,
  async invoke({ ctx, req, parameters }): Promise<FhirResponse> {
    const request = eligibilityRequest(ctx, req.method, parameters);
    const ids = await population(ctx, patientInputs(parameters));
    if (!prefersAsync(req.headers.prefer)) {
      const limit = ctx.services.config.mtm.eligibilitySyncLimit;
      if (ids.length > limit) {
        throw new FhirError(400, [
          issue('error', 'too-costly', `${ids.length} patients are more than ${limit} answered at once: ask with "Prefer: respond-async", or name fewer patients`),
        ]);
      }
      return { status: 200, headers: {}, body: await run(ctx, ids, request) };
    }
    const job = startJob(ctx.security.principal, ids.length, (j) =>
      run(ctx, ids, request, (done) => {
        j.done = done;
      }),
    );
    return {
      status: 202,
      headers: { 'Content-Location': `${ctx.baseUrl}/$mtm-eligibility-status/${job.id}` },
      body: { resourceType: 'OperationOutcome', issue: [issue('information', 'informational', `Assessing ${ids.length} patients; poll the Content-Location`)] },
    };
  },
};

export const mtmEligibilityStatus: OperationHandler = {
  code: 'mtm-eligibility-status',
  definition: MTM_ELIGIBILITY_STATUS_DEFINITION,
  levels: ['system'],
  allowGet: true,
  scopes: ELIGIBILITY_SCOPES,
  async invoke({ ctx, req }): Promise<FhirResponse> {
    const id = req.segments[1];
    const job = id ? findJob(id) : undefined;
    // Another client's job is as unknown as a job that never was.
    if (!job || job.principal !== ctx.security.principal) throw notFound(`No eligibility job ${id ?? ''} is known`);
    if (job.error) throw new FhirError(500, [issue('error', 'exception', `The eligibility job failed: ${job.error}`)]);
    if (!job.result) {
      return {
        status: 202,
        headers: { 'X-Progress': `${job.done} of ${job.total} patients`, 'Retry-After': '2' },
        body: { resourceType: 'OperationOutcome', issue: [issue('information', 'informational', `${job.done} of ${job.total} patients assessed`)] },
      };
    }
    const bundle: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry: [{ resource: job.result, response: { status: '200 OK' } }] };
    return { status: 200, headers: {}, body: bundle };
  },
};
