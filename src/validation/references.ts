/** Which resource type a Reference.reference points at, when the string says so. */
import type { Resource } from '@medplum/fhirtypes';
import { isKnownResourceType } from '../fhir/definitions';

/**
 * "Patient/1", "Patient/1/_history/2", "https://host/fhir/Patient/1", "Patient?identifier=x" and
 * "#contained" (looked up in the resource) give their type; "urn:uuid:..." (inside a Bundle) and
 * anything else give undefined, and are left alone.
 */
export function referencedType(reference: string, resource: Resource): string | undefined {
  if (reference.startsWith('#')) {
    const contained = (resource as { contained?: Resource[] }).contained;
    return contained?.find((r) => r.id === reference.slice(1))?.resourceType;
  }
  if (reference.startsWith('urn:')) return undefined;
  const query = reference.indexOf('?');
  if (query >= 0) {
    const type = reference.slice(0, query);
    return isKnownResourceType(type) ? type : undefined;
  }
  const segments = reference.split('/');
  const history = segments.indexOf('_history');
  const end = history >= 0 ? history : segments.length;
  const type = segments[end - 2];
  return type !== undefined && isKnownResourceType(type) ? type : undefined;
}
