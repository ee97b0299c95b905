/** The patient an instance-level MTM operation is about, read through the access policy. */
import type { Patient } from '@medplum/fhirtypes';
import { FhirError, issue, notFound } from '../../fhir/outcome';
import type { RequestContext } from '../../interactions/types';

export async function readPatient(ctx: RequestContext, id: string | undefined): Promise<Patient> {
  if (!id) throw notFound('No patient id was given');
  const doc = await ctx.services.repository.readDocument('Patient', id);
  if (!doc?.resource) throw notFound(`Patient/${id} is not known`);
  if (!(await ctx.services.access.mayAccess(ctx.security, doc.resource, 'r'))) {
    throw new FhirError(403, [issue('error', 'forbidden', `This client may not access Patient/${id}`)]);
  }
  return doc.resource as Patient;
}
