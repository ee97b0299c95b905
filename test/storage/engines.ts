/**
 * The storage engines the contract suite runs against: the embedded engine always, MongoDB when
 * MONGODB_URI is set (no MongoDB server can be installed on the CI machines, so it is opt-in).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine';
import { MongoEngine } from '../../src/storage/mongodb/mongodb-engine';
import type { StorageEngine } from '../../src/storage/port';
import { dropDatabase, freshDatabaseName } from '../helpers/mongodb';

export interface EngineUnderTest {
  name: string;
  open(): Promise<{ engine: StorageEngine; dispose(): Promise<void> }>;
}

function embedded(cacheMb?: number): EngineUnderTest {
  return {
    name: `embedded${cacheMb !== undefined ? ` (${cacheMb} MB document cache)` : ''}`,
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-contract-'));
      const engine = new EmbeddedEngine({ dataDir: dir, diskCollections: { history: { columns: ['type', 'rid', 'ts'] } }, cacheMb });
      return {
        engine,
        async dispose() {
          await engine.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export const embeddedEngine = embedded();
/** No document cache at all: every read goes to SQLite. */
export const embeddedUncachedEngine = embedded(0);

const mongoUri = process.env.MONGODB_URI;

/** Why the MongoDB engine is not under test, or undefined when it is. */
export const MONGODB_SKIPPED = mongoUri
  ? undefined
  : 'MONGODB_URI is not set (no MongoDB server on this machine); run `MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0 npm run test:mongodb` against a replica set';

export const mongoEngine: EngineUnderTest = {
  name: 'mongodb',
  async open() {
    if (!mongoUri) throw new Error(MONGODB_SKIPPED);
    const database = freshDatabaseName('mtm_contract');
    const engine = await MongoEngine.connect(mongoUri, database);
    return {
      engine,
      async dispose() {
        await engine.close();
        await dropDatabase(mongoUri, database);
      },
    };
  },
};

/** Both engines, always: the MongoDB suite's tests are reported as pending when it cannot run. */
export const enginesUnderTest: Array<EngineUnderTest & { skipped?: string }> = [embeddedEngine, embeddedUncachedEngine, { ...mongoEngine, skipped: MONGODB_SKIPPED }];
