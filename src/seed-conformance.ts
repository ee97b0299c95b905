/**
 * Stores the conformance resources from profiles/ at start-up, so clients can read and search them
 * by url and name like any other resource. A resource is written only when it differs from the
 * stored version, so restarts do not pile up history.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ResourceRepository } from './repository/repository';

function withoutMeta(resource: Resource): string {
  const { meta: _meta, ...rest } = resource;
  return JSON.stringify(rest);
}

export async function seedConformanceResources(repository: ResourceRepository, resources: Resource[]): Promise<number> {
  let written = 0;
  for (const resource of resources) {
    if (!resource.id) throw new Error(`Conformance resource ${resource.resourceType} ${(resource as { url?: string }).url} has no id`);
    const stored = await repository.readDocument(resource.resourceType, resource.id);
    if (stored?.resource && withoutMeta(stored.resource) === withoutMeta(resource)) continue;
    await repository.update(resource as Resource & { id: string });
    written++;
  }
  return written;
}
