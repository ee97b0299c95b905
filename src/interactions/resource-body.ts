/** Checks on a request body that must be a resource of the type named in the URL. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, unsupportedMediaType } from '../fhir/outcome';
import type { FhirRequest, RequestContext, ValidationOutcome } from './types';

export function requireResource(req: FhirRequest, type: string): Resource {
  if (req.bodyKind && req.bodyKind !== 'resource') {
    throw unsupportedMediaType(`This interaction needs a FHIR JSON resource (application/fhir+json)`);
  }
  const body = req.body;
  if (body === undefined) throw badRequest(`The request needs a ${type} resource as its body`);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a JSON object');
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') throw badRequest('The body has no resourceType', 'resourceType');
  if (resourceType !== type) {
    throw badRequest(`The body is a ${resourceType} but the URL names ${type}`, 'resourceType');
  }
  return body as Resource;
}

/**
 * Runs the validation pipeline; on errors answers 422 with every issue. On success the profiles
 * the resource was checked against are recorded in meta.profile. `validated` is the validation
 * already under way, if any (FhirRequest.validated).
 */
export async function validateForWrite(
  ctx: RequestContext,
  resource: Resource,
  mode: 'create' | 'update',
  validated?: Promise<ValidationOutcome>,
): Promise<Resource> {
  return (await validateWithWarnings(ctx, resource, mode, validated)).resource;
}

/** validateForWrite, also handing back the warnings, which `Prefer: return=OperationOutcome` shows the client. */
export async function validateWithWarnings(
  ctx: RequestContext,
  resource: Resource,
  mode: 'create' | 'update',
  validated?: Promise<ValidationOutcome>,
): Promise<{ resource: Resource; warnings: OperationOutcomeIssue[] }> {
  const result = await (validated ?? ctx.services.validator.validate(resource, { mode }));
  if (!result.valid) {
    throw new FhirError(422, { resourceType: 'OperationOutcome', issue: result.issues });
  }
  const warnings = result.issues.filter((i) => i.severity === 'warning');
  if (result.appliedProfiles.length === 0) return { resource, warnings };
  const profiles = new Set([...(resource.meta?.profile ?? []), ...result.appliedProfiles]);
  return { resource: { ...resource, meta: { ...(resource.meta ?? {}), profile: [...profiles] } } as Resource, warnings };
}
