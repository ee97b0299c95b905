import assert from 'node:assert/strict';
import type { Bundle, BundleEntry, MedicationStatement, OperationOutcome } from '@medplum/fhirtypes';
import { testConfig } from '../../src/config';
import { DEFAULT_REQUIRED_PROFILES } from '../../src/validation';
import { ValidationWorkerPool } from '../../src/validation/worker-pool';
import { readExample } from '../examples/example-files';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const PROFILE = 'http://mtm-fhir.org/fhir/StructureDefinition/mtm-medication-statement';

function statement(patient: string): MedicationStatement {
  const { id: _id, ...example } = readExample('mtm/medication-statement.json') as MedicationStatement;
  return { ...example, subject: { reference: patient }, informationSource: { reference: patient } };
}

function bundle(type: 'batch' | 'transaction', entries: BundleEntry[]): string {
  return JSON.stringify({ resourceType: 'Bundle', type, entry: entries } satisfies Bundle);
}

describe('Validation on worker threads', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ validation: { ...testConfig().validation, workers: 2 } });
  });
  after(() => t.close());

  const post = (path: string, body: unknown) =>
    t.api().post(`/fhir${path}`).set('Content-Type', FHIR_JSON).send(typeof body === 'string' ? body : JSON.stringify(body));
  const total = async (query: string) => (await t.api().get(`/fhir/${query}&_summary=count`)).body.total as number;

  it('creates a valid MedicationStatement and records the profile it was checked against', async () => {
    const res = await post('/MedicationStatement', statement('Patient/w-1'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.meta.profile, [PROFILE]);
  });

  it('answers 422 with the failing element for an invalid one, and stores nothing', async () => {
    const { medicationCodeableConcept: _gone, ...noMedication } = statement('Patient/w-2');
    const res = await post('/MedicationStatement', noMedication);
    assert.equal(res.status, 422);
    const errors = (res.body as OperationOutcome).issue.filter((i) => i.severity === 'error');
    assert.ok(errors.some((i) => i.expression?.some((e) => e.startsWith('MedicationStatement.medication'))), JSON.stringify(errors));
    assert.equal(await total('MedicationStatement?subject=Patient/w-2'), 0);
  });

  it('keeps a transaction atomic: one invalid entry among 40 fails it, named by index, and nothing is stored', async () => {
    const entries: BundleEntry[] = Array.from({ length: 40 }, () => ({ resource: statement('Patient/w-3'), request: { method: 'POST', url: 'MedicationStatement' } }));
    entries[27] = { resource: { ...statement('Patient/w-3'), status: 'taken' as MedicationStatement['status'] }, request: { method: 'POST', url: 'MedicationStatement' } };
    const res = await post('', bundle('transaction', entries));
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.ok(res.body.issue.some((i: { expression?: string[] }) => i.expression?.[0]?.startsWith('Bundle.entry[27]')), JSON.stringify(res.body.issue));
    assert.equal(await total('MedicationStatement?subject=Patient/w-3'), 0);
  });

  it('checks a placeholder reference as a reference to the type of the entry it names', async () => {
    const entries: BundleEntry[] = [
      { fullUrl: 'urn:uuid:3f1d0c9a-0000-4000-8000-000000000001', resource: { resourceType: 'Practitioner', name: [{ family: 'Okafor' }] }, request: { method: 'POST', url: 'Practitioner' } },
      { resource: statement('urn:uuid:3f1d0c9a-0000-4000-8000-000000000001'), request: { method: 'POST', url: 'MedicationStatement' } },
    ];
    const res = await post('', bundle('transaction', entries));
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body.issue), /Bundle\.entry\[1\]\.resource\.subject/);
  });

  it('stores a 100-entry transaction whose entries reference a new Patient, all validated', async () => {
    const patientUrl = 'urn:uuid:3f1d0c9a-0000-4000-8000-000000000002';
    const entries: BundleEntry[] = [{ fullUrl: patientUrl, resource: { resourceType: 'Patient', name: [{ family: 'Nakamura' }] }, request: { method: 'POST', url: 'Patient' } }];
    for (let i = 0; i < 99; i++) entries.push({ resource: statement(patientUrl), request: { method: 'POST', url: 'MedicationStatement' } });
    const res = await post('', bundle('transaction', entries));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    const patientId = /\/Patient\/([^/]+)\//.exec(res.body.entry[0].response.location)?.[1];
    assert.equal(await total(`MedicationStatement?subject=Patient/${patientId}`), 99);
    assert.deepEqual(res.body.entry[1].resource.meta.profile, [PROFILE]);
  });

  it('fails only the invalid entry of a batch', async () => {
    const entries: BundleEntry[] = [
      { resource: statement('Patient/w-5'), request: { method: 'POST', url: 'MedicationStatement' } },
      { resource: { ...statement('Patient/w-5'), status: 'taken' as MedicationStatement['status'] }, request: { method: 'POST', url: 'MedicationStatement' } },
      { resource: statement('Patient/w-5'), request: { method: 'POST', url: 'MedicationStatement' } },
    ];
    const res = await post('', bundle('batch', entries));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.entry.map((e: BundleEntry) => e.response?.status.slice(0, 3)), ['201', '422', '201']);
    assert.equal(await total('MedicationStatement?subject=Patient/w-5'), 2);
  });
});

/** Every item's result, in order, or the first failure. */
const validateAll = (pool: ValidationWorkerPool, items: Parameters<ValidationWorkerPool['validateEach']>[0]) => Promise.all(pool.validateEach(items));

describe('The validation worker pool', function () {
  // Each test starts worker threads that load the R4 definitions: seconds on an idle machine, far
  // more on a shared one. Nothing here is judged on time; this only keeps a stuck pool from hanging.
  this.timeout(180_000);
  const setup = { lenientUnknownProfiles: false, requiredProfiles: DEFAULT_REQUIRED_PROFILES };

  it('answers a validation caught in a dying worker with 503, and the next one succeeds on a replacement', async () => {
    const pool = new ValidationWorkerPool(1, setup);
    try {
      await pool.ready;
      // Fault injection: the only way to kill a worker from outside is to reach for its thread.
      const [worker] = (pool as unknown as { workers: Array<{ thread: { terminate(): Promise<number> } }> }).workers;
      // Enough work that the worker is still busy when it is stopped.
      const inFlight = validateAll(pool, Array.from({ length: 3000 }, () => ({ resource: statement('Patient/p-1') })));
      await worker.thread.terminate();
      await assert.rejects(inFlight, (error: { status?: number }) => error.status === 503);
      const [after] = await validateAll(pool, [{ resource: statement('Patient/p-1') }]);
      assert.equal(after.valid, true, JSON.stringify(after.issues));
    } finally {
      await pool.close();
    }
  });

  it('stops a worker that takes longer than the job time limit, answers 503, and validates again on a replacement', async () => {
    // A limit no job can meet (1 ms for 300 queued jobs), then one every job meets: the outcome
    // does not depend on how fast this machine is.
    let limitMs = 1;
    const pool = new ValidationWorkerPool(1, setup, () => limitMs);
    try {
      await pool.ready;
      const slow = validateAll(pool, Array.from({ length: 3000 }, () => ({ resource: statement('Patient/p-3') })));
      await assert.rejects(slow, (error: { status?: number }) => error.status === 503);
      limitMs = 60_000;
      const [after] = await validateAll(pool, [{ resource: statement('Patient/p-3') }]);
      assert.equal(after.valid, true, JSON.stringify(after.issues));
    } finally {
      await pool.close();
    }
  });

  it('keeps the order of results when a batch of items is shared among workers', async () => {
    const pool = new ValidationWorkerPool(2, setup);
    try {
      const items = Array.from({ length: 45 }, (_, i) => ({
        resource: i % 3 === 1 ? { ...statement('Patient/p-2'), status: 'taken' as MedicationStatement['status'] } : statement('Patient/p-2'),
      }));
      const results = await validateAll(pool, items);
      assert.deepEqual(results.map((r) => r.valid), items.map((_, i) => i % 3 !== 1));
    } finally {
      await pool.close();
    }
  });
});
