/**
 * The access-policy scenario: the MTM records of three patients and three Groups. Payer A's members
 * are Rosa Álvarez and Margaret Holloway, payer B's is Walter Nguyen; a third Group (another
 * plan's) lists Rosa and Walter together. Practitioners and the pharmacy are in no patient compartment.
 */
import type { Group, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../src/conformance/canonical';
import type { SecurityContext } from '../../src/interactions/types';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { FHIR_JSON, type TestServer } from '../helpers/test-server';

export const CMR = `${CODE_SYSTEM.reviewType}|cmr`;
export const GROUP_A_PATIENTS = ['rosa-alvarez', 'margaret-holloway'];
export const GROUP_B_PATIENTS = ['walter-nguyen'];

function group(id: string, patients: string[]): Group {
  return {
    resourceType: 'Group',
    id,
    type: 'person',
    actual: true,
    name: `Plan ${id}`,
    member: patients.map((p) => ({ entity: { reference: `Patient/${p}` } })),
  };
}

export async function loadAccessScenario(t: TestServer): Promise<void> {
  await loadMtmRecords(t);
  for (const g of [group('payer-a', GROUP_A_PATIENTS), group('payer-b', GROUP_B_PATIENTS), group('other-plan', ['rosa-alvarez', 'walter-nguyen'])]) {
    const res = await t.api().put(`${t.base}/Group/${g.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(g));
    if (res.status !== 201) throw new Error(`Group ${g.id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

export const security = (principal: string, scopes: string, group?: string): SecurityContext => ({
  principal,
  scopes: scopes.split(' '),
  ...(group ? { group: `Group/${group}` } : {}),
  address: '192.0.2.10',
});

/**
 * Whether a resource belongs to a patient outside `members`: it is one of them, or refers to one in
 * any reference anywhere in it (a stricter test than the compartment definition the server uses).
 */
export function touchesOutsider(resource: Resource, members: readonly string[]): boolean {
  if (resource.resourceType === 'Patient') return !members.includes(resource.id as string);
  const references = JSON.stringify(resource).match(/Patient\/[A-Za-z0-9\-.]+/g) ?? [];
  return references.some((r) => !members.includes(r.slice('Patient/'.length)));
}
