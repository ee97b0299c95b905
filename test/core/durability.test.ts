import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Starts `src/main.ts` as a real process and resolves with its base URL once it logs that it listens. */
function startServerProcess(dataDir: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    // No rate limit: the test's few hundred requests, sent as fast as a quiet machine allows, exceed the default burst.
    env: { ...process.env, PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', MONGODB_URI: '', RATE_LIMIT_PER_SECOND: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, base: match[1] });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('Durability of acknowledged writes', function () {
  // Two server starts from source and 400 requests: over a minute on 2 cores shared by many test runs.
  this.timeout(120_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-durability-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('finds every acknowledged write (creates, an update, the stored entries of a batch) after the server is killed with SIGKILL and restarted', async () => {
    const first = await startServerProcess(dataDir);
    const writes = Array.from({ length: 200 }, async (_, i) => {
      const res = await fetch(`${first.base}/Practitioner`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: `Durable ${i}` }] }),
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { id: string }).id;
    });
    const updated = await fetch(`${first.base}/Practitioner/kept`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Practitioner', id: 'kept', name: [{ family: 'Kept' }] }),
    });
    assert.equal(updated.status, 201);
    // A batch commits its entries together: those answered 201 must survive, the refused one must not exist.
    const batch = await fetch(first.base, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: Array.from({ length: 30 }, (_, i) => ({
          resource: { resourceType: 'Practitioner', name: [{ family: `Batch ${i}` }], ...(i === 7 ? { gender: 'bogus' } : {}) },
          request: { method: 'POST', url: 'Practitioner' },
        })),
      }),
    });
    assert.equal(batch.status, 200);
    const batchEntries = ((await batch.json()) as { entry: { response: { status: string; location?: string } }[] }).entry;
    const batchIds = batchEntries.filter((e) => e.response.status.startsWith('201')).map((e) => /Practitioner\/([^/]+)/.exec(e.response.location ?? '')?.[1] as string);
    assert.equal(batchIds.length, 29);
    assert.match(batchEntries[7].response.status, /^422/);
    const ids = await Promise.all(writes);
    await killed(first.child);

    const second = await startServerProcess(dataDir);
    try {
      for (const id of [...ids, ...batchIds, 'kept']) {
        const res = await fetch(`${second.base}/Practitioner/${id}`);
        assert.equal(res.status, 200, `Practitioner/${id} was acknowledged but is missing after the restart`);
      }
      const history = await fetch(`${second.base}/Practitioner/_history?_count=1000`);
      assert.equal(((await history.json()) as { entry: unknown[] }).entry.length, 230, 'the refused batch entry left nothing behind');
    } finally {
      await killed(second.child);
    }
  });

  it('refuses to start a second server on a DATA_DIR another process has open, and says why, while the first goes on serving', async () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-one-process-'));
    const first = await startServerProcess(shared);
    try {
      const refused = await startServerProcess(shared).then(
        async (started) => {
          await killed(started.child);
          return undefined;
        },
        (error: Error) => error.message,
      );
      assert.ok(refused, 'a second server started on the same embedded store');
      assert.match(refused, /exited with 1/);
      assert.match(refused, /open in another process/);
      const created = await fetch(`${first.base}/Practitioner`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: 'Still served' }] }),
      });
      assert.equal(created.status, 201);
    } finally {
      await killed(first.child);
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });
});
