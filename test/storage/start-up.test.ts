/**
 * Start-up on the embedded engine costs the same whatever the store holds (issue 17): the indexes
 * are on disk and found there, not built again, and no stored resource is read to get ready. The
 * engine counts what it parses and builds (EmbeddedEngine.stats), so this is checked without a clock.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { testConfig } from '../../src/config';
import { buildServer } from '../../src/server';
import { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine';

describe('Start-up on a populated embedded store', function () {
  this.timeout(120_000);
  let dataDir: string;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-start-up-'));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** Starts the server on the store, lets `work` use it, stops it, and says what its engine did. */
  async function start(work: (server: Awaited<ReturnType<typeof buildServer>>) => Promise<void> = async () => undefined) {
    // No simulated round trips: the repository's engine is the embedded engine itself.
    const server = await buildServer(testConfig({ dataDir, simulatedRoundTrips: false }));
    const engine = server.repository.engine;
    assert.ok(engine instanceof EmbeddedEngine);
    const stats = engine.stats();
    await work(server);
    await server.close();
    return stats;
  }

  it('reads no stored resource and builds no index, however many resources are stored', async () => {
    await start(); // a new store: its indexes are created here
    const empty = await start();
    assert.equal(empty.indexBuilds, 0, 'opened again, the store builds no index');

    await start(async (server) => {
      await server.repository.engine.withTransaction(async (session) => {
        for (let i = 0; i < 300; i++) {
          const patient: Patient = { resourceType: 'Patient', id: `p${i}`, name: [{ family: `Family${i}` }], birthDate: `19${10 + (i % 80)}-01-01` };
          await server.repository.create(patient, { session, id: patient.id, method: 'POST' });
        }
      });
    });
    const populated = await start();
    assert.equal(populated.indexBuilds, 0);
    // What start-up reads (the conformance resources it compares with profiles/) does not grow with the patients.
    assert.equal(populated.documentsParsed, empty.documentsParsed);
  });
});
