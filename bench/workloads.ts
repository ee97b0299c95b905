/**
 * The workloads of issue 6, as lists of requests that the load generator cycles through. Built from
 * the same deterministic population both servers hold, so every id and code exists on both.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, Resource, SearchParameter } from '@medplum/fhirtypes';
import { CODE_SYSTEM, MAP_CATEGORY_CODE, SYSTEM } from '../src/conformance/canonical';
import { Prng } from './population/prng';
import { DEFAULT_SEED, generatePatient, medicationStatement, type PatientRecord, pickMedicine } from './population/population';
import { MEDICINES } from './population/vocabulary';
import { PROFILES_DIR } from './paths';

export interface BenchRequest {
  method: 'GET' | 'POST';
  /** Path below the FHIR base, with its query string, e.g. "/MedicationStatement/ms-1-2". */
  path: string;
  body?: string;
}

export interface Workload {
  id: string;
  label: string;
  requests: BenchRequest[];
  /** Statuses that count as success; anything else is an error. */
  expect: number[];
  /** Resources written per request, for resources/s (transactions); 0 for reads. */
  resourcesPerRequest: number;
  connections: number;
  /** Writes: run after the read-only workloads so that searches see exactly the loaded data. */
  mutates: boolean;
  note?: string;
}

const REQUESTS_PER_WORKLOAD = 2000;
export const TRANSACTION_ENTRIES = 100;
export const BATCH_ENTRIES = 200;

/** A search parameter of ours over CarePlan.supportingInfo, if profiles/ defines one. */
export function supportingInfoParameter(): { code: string; file: string } | undefined {
  if (!fs.existsSync(PROFILES_DIR)) return undefined;
  for (const file of fs.readdirSync(PROFILES_DIR).filter((f) => f.startsWith('SearchParameter-'))) {
    const sp = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, file), 'utf8')) as SearchParameter;
    if (sp.base?.includes('CarePlan') && sp.type === 'reference' && sp.expression?.includes('supportingInfo') && sp.code) {
      return { code: sp.code, file: path.join(PROFILES_DIR, file) };
    }
  }
  return undefined;
}

function sample<T>(rng: Prng, items: readonly T[], n: number): T[] {
  return Array.from({ length: n }, () => rng.pick(items));
}

/**
 * A transaction of exactly `size` POST entries: whole new patients (beyond the loaded range) with
 * their lists, statements, issues, plans and tasks, linked by urn:uuid placeholders.
 */
function transactionBundle(firstPatient: number, patients: number, seed: number, size: number): { body: string; next: number } {
  const resources: Resource[] = [];
  let n = firstPatient;
  while (resources.length < size) {
    for (const r of generatePatient(n++, patients, seed).resources) resources.push(r);
  }
  // Cut at `size`, dropping resources whose references would point outside the bundle: keep the
  // ones whose patient made it in whole, and top up with that patient's statements only.
  const kept = resources.slice(0, size);
  const ids = new Map(kept.map((r, i) => [`${r.resourceType}/${r.id}`, `urn:uuid:00000000-0000-4000-8000-${String(firstPatient * 1000 + i).padStart(12, '0')}`]));
  const dangling = (r: Resource) => [...JSON.stringify(r).matchAll(/"reference":"((?:Patient|MedicationStatement|DetectedIssue|CarePlan|List)\/[^"]+)"/g)].some((m) => !ids.has(m[1]));
  const entries: BundleEntry[] = [];
  for (const r of kept) {
    if (dangling(r)) continue;
    let json = JSON.stringify({ ...r, id: undefined });
    json = json.replace(/"reference":"([A-Za-z]+\/[^"]+)"/g, (whole, ref: string) => (ids.has(ref) ? `"reference":"${ids.get(ref)}"` : whole));
    entries.push({ fullUrl: ids.get(`${r.resourceType}/${r.id}`), resource: JSON.parse(json) as Resource, request: { method: 'POST', url: r.resourceType } });
  }
  // Top up to exactly `size` with extra statements for the last patient in the bundle.
  const lastPatient = entries.filter((e) => e.resource?.resourceType === 'Patient').at(-1) as BundleEntry;
  const rng = new Prng(seed + firstPatient);
  while (entries.length < size) {
    const ms = medicationStatement(undefined, 'placeholder', pickMedicine(rng), rng.int(0, 500), 'active');
    ms.subject = { reference: lastPatient.fullUrl };
    ms.informationSource = { reference: lastPatient.fullUrl };
    entries.push({ fullUrl: `urn:uuid:00000000-0000-4000-9000-${String(firstPatient * 1000 + entries.length).padStart(12, '0')}`, resource: ms, request: { method: 'POST', url: 'MedicationStatement' } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  return { body: JSON.stringify(bundle), next: n };
}

export function buildWorkloads(patients: number, seed = DEFAULT_SEED, quick = false): Workload[] {
  const rng = new Prng(seed + 7);
  const sampled: PatientRecord[] = [];
  for (let i = 0; i < Math.min(patients, 600); i++) sampled.push(generatePatient(rng.int(0, patients - 1), patients, seed));
  const withPlan = sampled.filter((p) => p.carePlanId);
  const statementIds = sampled.flatMap((p) => p.medicationStatementIds);
  const supporting = supportingInfoParameter();

  const get = (p: string): BenchRequest => ({ method: 'GET', path: p });
  const workloads: Workload[] = [
    {
      id: 'read',
      label: 'read MedicationStatement by id',
      requests: sample(rng, statementIds, REQUESTS_PER_WORKLOAD).map((id) => get(`/MedicationStatement/${id}`)),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
    },
    {
      id: 'search-patient',
      label: 'MedicationStatement?patient=X',
      requests: sample(rng, sampled, REQUESTS_PER_WORKLOAD).map((p) => get(`/MedicationStatement?patient=Patient/${p.patientId}`)),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
    },
    {
      id: 'search-code',
      label: 'MedicationStatement?code=rxnorm|X&_count=20',
      requests: sample(rng, MEDICINES, REQUESTS_PER_WORKLOAD).map((m) => get(`/MedicationStatement?code=${encodeURIComponent(`${SYSTEM.rxnorm}|${m.rxnorm}`)}&_count=20`)),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
    },
    {
      // A date range nothing else narrows (issue 17's range indexes): statements started in the first
      // days of the population's 500 (~0.2-1% of them), a page of 20.
      id: 'search-date',
      label: 'MedicationStatement?effective=lt…&_count=20',
      // Its own sequence, so that adding it changed no other workload's requests.
      requests: sample(new Prng(seed + 11), ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06'], REQUESTS_PER_WORKLOAD).map((d) =>
        get(`/MedicationStatement?effective=lt${d}&_count=20`),
      ),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
    },
    {
      id: 'search-payer',
      label: 'Task?code=cmr&status=completed&period=ge…&_count=20',
      requests: sample(rng, ['2025-04-01', '2025-05-15', '2025-07-01', '2025-08-15', '2025-09-01'], REQUESTS_PER_WORKLOAD).map((d) =>
        get(`/Task?code=${encodeURIComponent(`${CODE_SYSTEM.reviewType}|cmr`)}&status=completed&period=ge${d}&_count=20`),
      ),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
    },
    {
      id: 'search-ehr',
      label: `CarePlan?patient=X&category=MAP&status=active${supporting ? `&_include=CarePlan:${supporting.code}` : ''}`,
      requests: sample(rng, withPlan.length ? withPlan : sampled, REQUESTS_PER_WORKLOAD).map((p) =>
        get(
          `/CarePlan?patient=Patient/${p.patientId}&category=${encodeURIComponent(`${SYSTEM.snomed}|${MAP_CATEGORY_CODE}`)}&status=active` +
            (supporting ? `&_include=CarePlan:${supporting.code}` : ''),
        ),
      ),
      expect: [200],
      resourcesPerRequest: 0,
      connections: 10,
      mutates: false,
      note: supporting ? undefined : 'no SearchParameter over CarePlan.supportingInfo in profiles/: _include omitted',
    },
    {
      id: 'create',
      label: 'validated create MedicationStatement',
      requests: sample(rng, sampled, REQUESTS_PER_WORKLOAD).map((p) => ({
        method: 'POST',
        path: '/MedicationStatement',
        body: JSON.stringify(medicationStatement(undefined, p.patientId, pickMedicine(rng), rng.int(0, 500), 'active')),
      })),
      expect: [201],
      resourcesPerRequest: 1,
      connections: 10,
      mutates: true,
    },
  ];

  const bundles: BenchRequest[] = [];
  let next = patients + 1000;
  for (let b = 0; b < (quick ? 10 : 40); b++) {
    const built = transactionBundle(next, patients, seed, TRANSACTION_ENTRIES);
    next = built.next;
    bundles.push({ method: 'POST', path: '/', body: built.body });
  }
  // Batch load: Bundles of 200 independent creates of MedicationStatements for loaded patients.
  const batches: BenchRequest[] = [];
  for (let b = 0; b < (quick ? 10 : 40); b++) {
    const entry: BundleEntry[] = Array.from({ length: BATCH_ENTRIES }, () => {
      const p = rng.pick(sampled);
      const resource = JSON.parse(JSON.stringify(medicationStatement(undefined, p.patientId, pickMedicine(rng), rng.int(0, 500), 'active'))) as Resource;
      return { resource, request: { method: 'POST', url: 'MedicationStatement' } };
    });
    batches.push({ method: 'POST', path: '/', body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry } satisfies Bundle) });
  }
  workloads.push({
    id: 'batch',
    label: `batch load, ${BATCH_ENTRIES}-entry Bundles of MedicationStatement creates`,
    requests: batches,
    expect: [200],
    resourcesPerRequest: BATCH_ENTRIES,
    connections: 4,
    mutates: true,
  });
  workloads.push({
    id: 'transaction',
    label: `transaction ingest, ${TRANSACTION_ENTRIES}-entry Bundles`,
    requests: bundles,
    expect: [200],
    resourcesPerRequest: TRANSACTION_ENTRIES,
    connections: 4,
    mutates: true,
  });
  return workloads;
}
