import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Practitioner, Resource, Task } from '@medplum/fhirtypes';
import request from 'supertest';
import { testConfig } from '../../src/config';
import { buildServer, type FhirServer } from '../../src/server';
import { GROUP_B_PATIENTS, loadAccessScenario, touchesOutsider } from '../auth/access-fixture';
import { authHeader, tokenFor } from '../helpers/auth';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { loadExampleCmr, type LoadedCmr } from '../mtm/summary-fixture';

const CMR = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr';

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: Array<{ type: string; url: string; count: number }>;
  error: unknown[];
}

type Agent = () => ReturnType<typeof request>;

/** Kicks off an export and returns its status URL's path. */
async function kickOff(api: Agent, pathAndQuery: string, auth: Record<string, string> = {}): Promise<string> {
  const res = await api().get(`/fhir/${pathAndQuery}`).set(auth).set('Accept', FHIR_JSON).set('Prefer', 'respond-async');
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const location = res.headers['content-location'] as string;
  assert.match(location, /\/fhir\/\$export-status\/[0-9a-f-]+$/);
  return new URL(location).pathname;
}

/** Polls the status URL until the manifest is there (bounded: 600 polls, 50 ms apart). */
async function manifestOf(api: Agent, statusPath: string, auth: Record<string, string> = {}): Promise<Manifest> {
  for (let i = 0; i < 600; i++) {
    const res = await api().get(statusPath).set(auth);
    if (res.status === 200) {
      assert.match(res.headers['content-type'], /^application\/json/);
      return JSON.parse(res.text) as Manifest;
    }
    assert.equal(res.status, 202, res.text);
    assert.match(res.headers['x-progress'], /types exported/);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the export did not finish');
}

async function linesOf(api: Agent, url: string, auth: Record<string, string> = {}): Promise<Resource[]> {
  const res = await api().get(new URL(url).pathname).set(auth).buffer(true).parse((response, done) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => done(null, text));
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/fhir+ndjson');
  return (res.body as string).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Resource);
}

async function exported(api: Agent, manifest: Manifest, auth: Record<string, string> = {}): Promise<Map<string, Resource[]>> {
  const byType = new Map<string, Resource[]>();
  for (const output of manifest.output) {
    const resources = await linesOf(api, output.url, auth);
    assert.equal(resources.length, output.count, `${output.type}: the manifest's count is the file's line count`);
    assert.ok(resources.every((r) => r.resourceType === output.type));
    byType.set(output.type, [...(byType.get(output.type) ?? []), ...resources]);
  }
  return byType;
}

describe('Bulk Data export ($export)', () => {
  let t: TestServer;
  let cmr: LoadedCmr;
  before(async () => {
    t = await startTestServer();
    cmr = await loadExampleCmr(t);
  });
  after(async () => t.close());

  it('exports every resource as NDJSON through kick-off, polling and the manifest', async () => {
    const manifest = await manifestOf(t.api, await kickOff(t.api, '$export'));
    assert.equal(manifest.request.endsWith('/fhir/$export'), true);
    assert.deepEqual(manifest.error, []);
    const files = await exported(t.api, manifest);
    assert.equal(files.get('MedicationStatement')?.length, 9);
    assert.equal(files.get('Patient')?.length, 1);
    assert.ok(files.get('Task')?.some((task) => task.id === cmr.task));
    assert.ok(files.get('StructureDefinition')?.length, 'conformance resources are data too');
  });

  it('exports only the types asked for with _type, and only what matches _typeFilter', async () => {
    const open = await createResource<Task>(t, { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${cmr.patient}` }, description: 'not a review' });
    const query = `$export?_type=Task,Patient&_typeFilter=${encodeURIComponent(`Task?code=${CMR}&status=completed`)}`;
    const files = await exported(t.api, await manifestOf(t.api, await kickOff(t.api, query)));
    assert.deepEqual([...files.keys()].sort(), ['Patient', 'Task']);
    assert.ok(files.get('Task')?.some((task) => task.id === cmr.task));
    assert.ok(!files.get('Task')?.some((task) => task.id === open.id), 'a Task outside the filter is left out');
  });

  it('exports only what changed at or after _since', async () => {
    const first = await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Earlier' }] });
    let second = await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Later' }] });
    // Versions of one resource have strictly increasing times: update until it is later than the first.
    while (second.meta?.lastUpdated === first.meta?.lastUpdated) {
      second = (await t.api().put(`/fhir/Practitioner/${second.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(second))).body;
    }
    const files = await exported(t.api, await manifestOf(t.api, await kickOff(t.api, `$export?_type=Practitioner&_since=${encodeURIComponent(second.meta?.lastUpdated as string)}`)));
    assert.deepEqual(files.get('Practitioner')?.map((p) => p.id), [second.id]);
  });

  it('Patient/$export covers the patients\' compartments only', async () => {
    const files = await exported(t.api, await manifestOf(t.api, await kickOff(t.api, 'Patient/$export')));
    assert.ok(files.has('Patient') && files.has('MedicationStatement'));
    assert.ok(!files.has('Practitioner') && !files.has('StructureDefinition'), 'resources in no patient compartment are left out');
  });

  it('Group/{id}/$export covers the Group\'s members only', async () => {
    const other = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Outsider' }] });
    await createResource(t, { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${other.id}` } });
    const group = await createResource(t, { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${cmr.patient}` } }] });
    const files = await exported(t.api, await manifestOf(t.api, await kickOff(t.api, `Group/${group.id}/$export`)));
    assert.deepEqual(files.get('Patient')?.map((p) => p.id), [cmr.patient]);
    assert.equal(files.get('MedicationStatement')?.length, 9);
    assert.ok(!files.has('Observation'), 'the outsider\'s Observation is not exported');
  });

  it('DELETE on the status URL cancels the job and removes its files', async () => {
    const status = await kickOff(t.api, '$export?_type=Patient');
    const manifest = await manifestOf(t.api, status);
    const del = await t.api().delete(status);
    assert.equal(del.status, 202);
    assert.equal((await t.api().get(status)).status, 404);
    assert.equal((await t.api().get(new URL(manifest.output[0].url).pathname)).status, 404);
  });

  it('refuses a kick-off it cannot honour with 400, starting nothing', async () => {
    const sync = await t.api().get('/fhir/$export').set('Accept', FHIR_JSON);
    assert.equal(sync.status, 400, 'without Prefer: respond-async');
    for (const query of ['_type=NotAType', '_since=yesterday', '_outputFormat=text/csv', `_type=Patient&_typeFilter=${encodeURIComponent('Task?status=completed')}`]) {
      const res = await t.api().get(`/fhir/$export?${query}`).set('Prefer', 'respond-async');
      assert.equal(res.status, 400, query);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });

  it('says in Expires when the files go: the retention period (24 hours by default) after the export finished', async () => {
    const status = await kickOff(t.api, '$export?_type=Patient');
    await manifestOf(t.api, status);
    const res = await t.api().get(status);
    const manifest = JSON.parse(res.text) as Manifest;
    const expires = Date.parse(res.headers.expires);
    const day = 24 * 60 * 60_000;
    // HTTP dates are whole seconds; the export finished after its transactionTime and before this answer.
    assert.ok(expires >= Date.parse(manifest.transactionTime) + day - 1000, `${res.headers.expires} is a day after ${manifest.transactionTime}`);
    assert.ok(expires <= Date.parse(res.headers.date) + day, `${res.headers.expires} is at most a day after ${res.headers.date}`);
  });

  it('says 404 for a job it does not know', async () => {
    assert.equal((await t.api().get('/fhir/$export-status/00000000-0000-7000-8000-000000000000')).status, 404);
  });
});

describe('Bulk export jobs survive a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-bulk-restart-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('answers the manifest and serves the files after the server restarts, including a job cut short by the stop', async () => {
    const start = () => buildServer(testConfig({ dataDir }));
    let server: FhirServer = await start();
    let api: Agent = () => request(server.app);
    const t = { api, base: '/fhir' } as unknown as TestServer;
    await loadExampleCmr(t);
    const finished = await kickOff(api, '$export?_type=MedicationStatement');
    await manifestOf(api, finished);
    const cut = await kickOff(api, '$export');
    await server.close(); // the second job is stopped where it was
    server = await start();
    api = () => request(server.app);
    try {
      const files = await exported(api, await manifestOf(api, finished));
      assert.equal(files.get('MedicationStatement')?.length, 9);
      const resumed = await exported(api, await manifestOf(api, cut));
      assert.equal(resumed.get('MedicationStatement')?.length, 9);
      assert.equal(resumed.get('Patient')?.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe('Bulk export retention', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-bulk-retention-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const jobDirectory = (statusPath: string) => path.join(dataDir, 'bulk-export', statusPath.split('/').pop() as string);

  it('removes finished exports and their files once the retention period has passed, whether or not anyone asks again', async () => {
    let server: FhirServer = await buildServer(testConfig({ dataDir }));
    let api: Agent = () => request(server.app);
    await createResource({ api, base: '/fhir' } as unknown as TestServer, { resourceType: 'Patient', name: [{ family: 'Exported' }] });
    const fetched = await kickOff(api, '$export?_type=Patient');
    const manifest = await manifestOf(api, fetched);
    const never = await kickOff(api, '$export?_type=Patient');
    await manifestOf(api, never);
    assert.ok(fs.existsSync(jobDirectory(fetched)) && fs.existsSync(jobDirectory(never)));
    await server.close();

    // Started again with no retention at all: every finished export is past it.
    server = await buildServer(testConfig({ dataDir, bulkExportRetentionMinutes: 0 }));
    api = () => request(server.app);
    try {
      assert.ok(!fs.existsSync(jobDirectory(fetched)) && !fs.existsSync(jobDirectory(never)), 'the files are gone before anyone asks');
      assert.equal((await api().get(fetched)).status, 404);
      assert.equal((await api().get(new URL(manifest.output[0].url).pathname)).status, 404);

      // A job that finishes now is unknown as soon as it has finished.
      const current = await kickOff(api, '$export?_type=Patient');
      let res = await api().get(current);
      for (let i = 0; i < 600 && res.status === 202; i++) {
        await new Promise((r) => setTimeout(r, 50));
        res = await api().get(current);
      }
      assert.equal(res.status, 404, res.text);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.ok(!fs.existsSync(jobDirectory(current)));
    } finally {
      await server.close();
    }
  });
});

describe('Bulk export and access control', () => {
  let t: TestServer;
  let payerB: Record<string, string>;
  let patientsOnly: Record<string, string>;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
    payerB = authHeader(await tokenFor(t, { scopes: 'system/*.rs', group: 'Group/payer-b' }));
    patientsOnly = authHeader(await tokenFor(t, { scopes: 'system/Patient.rs' }));
  });
  after(async () => t.close());

  it('a Group-bound client exports its Group\'s patients and their records only', async () => {
    const manifest = await manifestOf(t.api, await kickOff(t.api, '$export?_type=Patient,Task,CarePlan', payerB), payerB);
    assert.equal(manifest.requiresAccessToken, true);
    const files = await exported(t.api, manifest, payerB);
    assert.deepEqual(files.get('Patient')?.map((p) => p.id), GROUP_B_PATIENTS);
    for (const resource of [...files.values()].flat()) assert.ok(!touchesOutsider(resource, GROUP_B_PATIENTS), `${resource.resourceType}/${resource.id}`);
    assert.ok(files.get('Task')?.length, 'its own patient\'s Tasks are there');
  });

  it('a type outside the client\'s scopes is 403; without _type, only the types it may read are exported', async () => {
    const denied = await t.api().get('/fhir/$export?_type=Patient,Task').set(patientsOnly).set('Prefer', 'respond-async');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.resourceType, 'OperationOutcome');
    const files = await exported(t.api, await manifestOf(t.api, await kickOff(t.api, 'Patient/$export', patientsOnly), patientsOnly), patientsOnly);
    assert.deepEqual([...files.keys()], ['Patient']);
  });

  it('a job\'s status and files are its client\'s only (404 to another)', async () => {
    const status = await kickOff(t.api, '$export?_type=Patient', payerB);
    const manifest = await manifestOf(t.api, status, payerB);
    assert.equal((await t.api().get(status).set(patientsOnly)).status, 404);
    assert.equal((await t.api().get(new URL(manifest.output[0].url).pathname).set(patientsOnly)).status, 404);
    assert.equal((await t.api().delete(status).set(patientsOnly)).status, 404);
  });
});
