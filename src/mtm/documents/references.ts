/**
 * Reading what a stored resource points at, for documents made from stored data: a reference that
 * is absent, dangling, of an unexpected type or outside what the caller may read resolves to
 * nothing, so the document shows a blank rather than failing or guessing.
 */
import type { Reference, Resource } from '@medplum/fhirtypes';
import { FhirError, issue } from '../../fhir/outcome';
import type { RequestContext } from '../../interactions/types';

export function referenceParts(reference: Reference | undefined): { type: string; id: string } | undefined {
  const match = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference?.reference ?? '');
  return match ? { type: match[1], id: match[2] } : undefined;
}

/** The referenced resource when it is stored, of one of `types`, and readable by the caller. */
export async function resolve<T extends Resource>(
  ctx: RequestContext,
  reference: Reference | undefined,
  types: readonly T['resourceType'][],
): Promise<T | undefined> {
  const parts = referenceParts(reference);
  if (!parts || !(types as readonly string[]).includes(parts.type)) return undefined;
  const doc = await ctx.services.repository.readDocument(parts.type, parts.id);
  if (!doc?.resource || doc.deleted) return undefined;
  if (!(await ctx.services.access.mayAccess(ctx.security, doc.resource, 'r'))) return undefined;
  return doc.resource as T;
}

/** The resource an operation is invoked on; 404/410 when missing, 403 when the caller may not read it. */
export async function readTarget<T extends Resource>(ctx: RequestContext, type: T['resourceType'], id: string): Promise<T & { id: string }> {
  const { resource } = await ctx.services.repository.read(type, id);
  if (!(await ctx.services.access.mayAccess(ctx.security, resource, 'r'))) {
    throw new FhirError(403, [issue('error', 'forbidden', `This client may not read ${type}/${id}`)]);
  }
  return resource as T & { id: string };
}
