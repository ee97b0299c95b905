/**
 * The patient-set restriction of a Group-bound client, as a storage filter per resource type. A
 * resource of a type that can be in a Patient compartment is visible when it is in the compartment of
 * at least one member and of no patient outside the Group: a resource naming an outsider (another
 * payer's Group listing one shared member, a List about two patients) would otherwise leak who the
 * outsider is. Types in no Patient compartment (Practitioner, Medication, Organization, conformance
 * resources) are not restricted.
 */
import { patientCompartmentParams } from '../search/compartment';
import type { Filter } from '../storage/port';

export function groupFilter(type: string, members: ReadonlySet<string>): Filter | undefined {
  const params = patientCompartmentParams(type);
  if (type !== 'Patient' && !params) return undefined;
  const references = [...members].map((id) => `Patient/${id}`);
  const outsider: Filter[] = params
    ? [{ $nor: [{ sp: { $elemMatch: { n: { $in: [...params] }, k: { $regex: '^Patient/', $nin: references } } } }] }]
    : [];
  if (type === 'Patient') return { $and: [{ _id: { $in: [...members] } }, ...outsider] };
  return { $and: [{ sp: { $elemMatch: { n: { $in: [...(params as string[])] }, k: { $in: references } } } }, ...outsider] };
}
