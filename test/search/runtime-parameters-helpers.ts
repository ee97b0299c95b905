/** Helpers for the run-time SearchParameter tests: definitions, patients, and the re-index status. */
import assert from 'node:assert/strict';
import type { Parameters, Patient, Resource, SearchParameter } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestServer } from '../helpers/test-server';

export const PHARMACY_EXTENSION = 'http://example.org/fhir/StructureDefinition/preferred-pharmacy';

/** A Patient search parameter on an extension, as a pharmacy network would add one. */
export function pharmacyParameter(overrides: Partial<SearchParameter> = {}): SearchParameter {
  return {
    resourceType: 'SearchParameter',
    url: 'http://example.org/fhir/SearchParameter/patient-preferred-pharmacy',
    name: 'PatientPreferredPharmacy',
    status: 'active',
    description: 'The pharmacy the patient prefers',
    code: 'preferred-pharmacy',
    base: ['Patient'],
    type: 'string',
    expression: `Patient.extension('${PHARMACY_EXTENSION}').value`,
    ...overrides,
  };
}

export function patientPreferring(id: string, pharmacy: string | undefined): Patient & { id: string } {
  return {
    resourceType: 'Patient',
    id,
    name: [{ family: `Family-${id}` }],
    ...(pharmacy ? { extension: [{ url: PHARMACY_EXTENSION, valueString: pharmacy }] } : {}),
  };
}

export async function put(t: TestServer, resource: Resource, headers: Record<string, string> = {}) {
  return t.api().put(`${t.base}/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(resource));
}

export async function post(t: TestServer, resource: Resource, headers: Record<string, string> = {}) {
  return t.api().post(`${t.base}/${resource.resourceType}`).set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(resource));
}

/** The $reindex-status answer as a plain object: applied, status, processed, total. */
export async function reindexStatus(t: TestServer, id: string, headers: Record<string, string> = {}): Promise<Record<string, string | number>> {
  const res = await t.api().get(`${t.base}/SearchParameter/${id}/$reindex-status`).set(headers);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const result: Record<string, string | number> = {};
  for (const p of (res.body as Parameters).parameter ?? []) result[p.name as string] = p.valueCode ?? p.valueInteger ?? p.valueString ?? '';
  return result;
}

/** Polls $reindex-status, as a client would, until `done(status)`; fails after many tries. */
export async function waitForStatus(
  t: TestServer,
  id: string,
  done: (status: Record<string, string | number>) => boolean,
  headers: Record<string, string> = {},
): Promise<Record<string, string | number>> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const status = await reindexStatus(t, id, headers);
    if (done(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`SearchParameter/${id}: $reindex-status never reached the expected state; last: ${JSON.stringify(await reindexStatus(t, id, headers))}`);
}

export const completed = (s: Record<string, string | number>) => s.status === 'completed';
