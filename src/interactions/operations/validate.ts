/**
 * $validate (FHIR R4 Resource-validate): POST /{type}/$validate and POST /{type}/{id}/$validate.
 * The resource goes through the same pipeline as a write; the answer is the OperationOutcome with
 * HTTP 200, valid or not. Input: the resource as the body, or a Parameters body with `resource`,
 * `mode` (create | update | delete) and `profile`; mode and profile may also be query parameters.
 * At instance level without a resource, the stored current version is validated.
 */
import type { OperationOutcomeIssue, Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest, issue, outcome } from '../../fhir/outcome';
import type { FhirResponse } from '../types';
import { type OperationHandler, parameterValue } from './registry';

export const VALIDATE_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/validate';
const MODES = ['create', 'update', 'delete'] as const;
type Mode = (typeof MODES)[number];

function stringParameter(parameters: Parameters, name: string): string | undefined {
  const p = parameterValue(parameters, name);
  return p?.valueCode ?? p?.valueUri ?? p?.valueCanonical ?? p?.valueUrl ?? p?.valueString;
}

function modeOf(parameters: Parameters): Mode | undefined {
  const raw = stringParameter(parameters, 'mode');
  if (raw === undefined) return undefined;
  if (!(MODES as readonly string[]).includes(raw)) throw badRequest(`mode must be one of ${MODES.join(', ')}, not "${raw}"`, 'mode');
  return raw as Mode;
}

function respond(issues: OperationOutcomeIssue[]): FhirResponse {
  // An OperationOutcome needs at least one issue; a clean result says so.
  const body = outcome(issues.length ? issues : [issue('information', 'informational', 'Validation successful: no issues found')]);
  return { status: 200, body, headers: {} };
}

export const validateOperation: OperationHandler = {
  code: 'validate',
  definition: VALIDATE_DEFINITION,
  levels: ['type', 'instance'],
  allowGet: false,
  // Validating a body touches no stored data; the instance level's read of the stored resource is the policy's to check.
  scopes: [],
  async invoke({ ctx, parameters, resource: bodyResource, resourceType, id, level }) {
    const mode = modeOf(parameters);
    const profile = stringParameter(parameters, 'profile');
    const given: Resource | undefined = bodyResource ?? parameterValue(parameters, 'resource')?.resource;
    if (!given && level !== 'instance') throw badRequest('$validate needs the resource: as the body, or as the "resource" parameter');
    if (given && given.resourceType !== resourceType) {
      throw badRequest(`A ${given.resourceType} cannot be validated at /${resourceType}/$validate`, 'resourceType');
    }
    const resource: Resource = given ?? (await ctx.services.repository.read(resourceType as string, id as string)).resource;

    const issues: OperationOutcomeIssue[] = [];
    if (level === 'instance' && mode === 'delete') {
      // Deleting needs the resource to exist; read() answers 404 otherwise.
      await ctx.services.repository.read(resourceType as string, id as string);
    }
    if (level === 'instance' && mode === 'update' && resource.id !== id) {
      issues.push(issue('error', 'invalid', `The resource id "${resource.id ?? ''}" does not match the id in the URL, "${id}"`, `${resourceType}.id`));
    }
    const result = await ctx.services.validator.validate(resource, { mode, profiles: profile ? [profile] : undefined });
    return respond([...issues, ...result.issues]);
  },
};
