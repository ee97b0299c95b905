import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { testConfig } from '../../src/config';
import { ResourceRepository } from '../../src/repository/repository';
import { buildServer } from '../../src/server';
import { openStorageEngine } from '../../src/storage/open-engine';
import { mtmRecords } from '../fixtures/search/mtm-records';
import { expectIds } from './search-helpers';

describe('Search index at start-up', () => {
  it('indexes resources stored without search values (before search existed, or under an older index)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-reindex-'));
    try {
      const config = testConfig({ dataDir });
      // write the records with a repository that computes no search values at all
      const engine = await openStorageEngine(config);
      const bare = new ResourceRepository(engine);
      for (const resource of mtmRecords()) await bare.update(resource as typeof resource & { id: string });
      await engine.close();

      const server = await buildServer(config);
      const t = { server, api: () => request(server.app), base: config.basePath, dataDir, close: () => server.close() };
      try {
        await expectIds(t, 'MedicationStatement', { patient: 'margaret-holloway', code: '855332' }, ['ms-holloway-warfarin']);
        await expectIds(t, 'Patient', { name: 'alvarez' }, ['rosa-alvarez']);
        const read = await t.api().get(`${config.basePath}/Patient/rosa-alvarez`);
        assert.equal(read.body.meta.versionId, '1', 're-indexing writes no new version');
      } finally {
        await server.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
