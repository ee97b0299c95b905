/**
 * The command-line importer and exporter, run as an operator runs them: as processes, against a
 * data directory that a server then opens.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from '../helpers/test-server';

const TSX = path.resolve('node_modules/.bin/tsx');

function runCli(script: 'import' | 'export', args: string[], dataDir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(TSX, [`src/cli/${script}.ts`, ...args], {
    env: { ...process.env, DATA_DIR: dataDir, VALIDATION_WORKERS: '1', LOG_LEVEL: 'warn', METRICS_PORT: '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ndjson = (...resources: unknown[]) => resources.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

describe('Importing and exporting from the command line', function () {
  this.timeout(180_000);
  let work: string;
  let dataDir: string;
  let input: string;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-cli-'));
    dataDir = path.join(work, 'data');
    input = path.join(work, 'input');
    fs.mkdirSync(path.join(input, 'nested'), { recursive: true });
    fs.writeFileSync(
      path.join(input, 'patients.ndjson'),
      ndjson(
        { resourceType: 'Patient', id: 'rosa', name: [{ family: 'Alvarez', given: ['Rosa'] }] },
        { resourceType: 'Patient', name: [{ family: 'Nakamura' }] },
        { resourceType: 'Patient', id: 'wrong', gender: 'sometimes' },
        '{"resourceType": "Patient", "id": ',
        { resourceType: 'Practitioner', id: 'lee', name: [{ family: 'Lee' }] },
      ),
    );
    fs.writeFileSync(
      path.join(input, 'nested', 'discharge.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:4f1c2a56-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Okafor' }] }, request: { method: 'POST', url: 'Patient' } },
          {
            fullUrl: 'urn:uuid:4f1c2a56-0000-4000-8000-000000000002',
            resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'urn:uuid:4f1c2a56-0000-4000-8000-000000000001' } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      }),
    );
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('loads NDJSON and Bundles, writes each failure with its file and line, and exits 1 because some failed', async () => {
    const errors = path.join(work, 'errors.ndjson');
    const run = runCli('import', ['--errors', errors, input], dataDir);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /Imported 5 resources \(0 already stored, 2 failed\)/);
    const failures = fs.readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { issue: Array<{ diagnostics?: string; expression?: string[] }> });
    const where = failures.map((f) => f.issue[0].diagnostics).sort();
    assert.deepEqual(where, [`${path.join(input, 'patients.ndjson')} line 3`, `${path.join(input, 'patients.ndjson')} line 4`]);
    assert.ok(failures.some((f) => f.issue.some((i) => i.expression?.includes('Patient.gender'))));

    const t = await startTestServer({ dataDir });
    try {
      assert.equal((await t.api().get('/fhir/Patient/rosa')).status, 200);
      assert.equal((await t.api().get('/fhir/Practitioner/lee')).status, 200);
      const okafor = await t.api().get('/fhir/Patient?family=Okafor');
      assert.equal(okafor.body.total, 1);
      const observation = await t.api().get('/fhir/Observation');
      assert.equal(observation.body.entry[0].resource.subject.reference, `Patient/${okafor.body.entry[0].resource.id}`);
      assert.equal((await t.api().get('/fhir/Patient?family=Nakamura')).body.total, 1);
    } finally {
      await t.server.close();
    }
  });

  it('skips what is already stored when run again, so an interrupted import can simply be restarted', async () => {
    const run = runCli('import', ['--errors', path.join(work, 'errors-2.ndjson'), input], dataDir);
    assert.match(run.stdout, /Imported 0 resources \(5 already stored, 2 failed\)/, run.stdout + run.stderr);
    const t = await startTestServer({ dataDir });
    try {
      assert.equal((await t.api().get('/fhir/Patient/rosa')).body.meta.versionId, '1');
      assert.equal((await t.api().get('/fhir/Patient?family=Nakamura')).body.total, 1);
      assert.equal((await t.api().get('/fhir/Patient?family=Okafor')).body.total, 1);
      assert.equal((await t.api().get('/fhir/Observation')).body.total, 1);
    } finally {
      await t.server.close();
    }
  });

  it('exits 0 when everything loaded', () => {
    const clean = path.join(work, 'clean.ndjson');
    fs.writeFileSync(clean, ndjson({ resourceType: 'Organization', id: 'plan', name: 'Sunrise Health Plan' }));
    const run = runCli('import', ['--errors', path.join(work, 'errors-3.ndjson'), clean], dataDir);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(fs.existsSync(path.join(work, 'errors-3.ndjson')), false);
  });

  it('exports the current version of each resource as NDJSON per type, optionally only some types', () => {
    const all = path.join(work, 'export-all');
    const run = runCli('export', [all], dataDir);
    assert.equal(run.status, 0, run.stderr);
    const patients = fs.readFileSync(path.join(all, 'Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    assert.equal(patients.length, 3);
    assert.ok(patients.some((p) => p.id === 'rosa'));
    const files = fs.readdirSync(all);
    for (const type of ['Observation', 'Organization', 'Patient', 'Practitioner']) assert.ok(files.includes(`${type}.ndjson`), type);
    assert.ok(!files.includes('Medication.ndjson'), 'a type with no resources gets no file');

    const some = path.join(work, 'export-some');
    assert.equal(runCli('export', ['--type', 'Practitioner', some], dataDir).status, 0);
    assert.deepEqual(fs.readdirSync(some), ['Practitioner.ndjson']);
    assert.equal(runCli('export', ['--type', 'Nonsense', some], dataDir).status, 2);
  });
});
