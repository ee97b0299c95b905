/**
 * Writes the server makes on its own inside a client's transaction (follow-up Tasks, a DetectedIssue's
 * mitigation): validated like any client write, so a derived resource can never be stored invalid.
 */
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/outcome';
import type { ValidationPort } from '../interactions/types';
import type { ResourceRepository } from '../repository/repository';
import type { StorageSession } from '../storage/port';

export interface DerivedWriteDeps {
  repository: Pick<ResourceRepository, 'create' | 'update' | 'readDocument'>;
  validator: ValidationPort;
}

async function validated(deps: DerivedWriteDeps, resource: Resource, mode: 'create' | 'update'): Promise<Resource> {
  const result = await deps.validator.validate(resource, { mode });
  if (!result.valid) {
    throw new FhirError(422, [
      { severity: 'error', code: 'processing', diagnostics: `The ${resource.resourceType} the server derives from this write would be invalid` },
      ...result.issues,
    ]);
  }
  const profiles = [...new Set([...(resource.meta?.profile ?? []), ...result.appliedProfiles])];
  return profiles.length ? ({ ...resource, meta: { ...resource.meta, profile: profiles } } as Resource) : resource;
}

export async function createValidated(deps: DerivedWriteDeps, resource: Resource, session: StorageSession): Promise<Resource> {
  return (await deps.repository.create(await validated(deps, resource, 'create'), { session })).resource;
}

export async function updateValidated(deps: DerivedWriteDeps, resource: Resource & { id: string }, session: StorageSession): Promise<Resource> {
  const stored = (await validated(deps, resource, 'update')) as Resource & { id: string };
  return (await deps.repository.update(stored, { session })).resource;
}
