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

export interface EngineUnderTest {
  name: string;
  open(): Promise<{ engine: StorageEngine; dispose(): Promise<void> }>;
}

export const embeddedEngine: EngineUnderTest = {
  name: 'embedded',
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-contract-'));
    const engine = new EmbeddedEngine({ dataDir: dir, diskCollections: { history: { columns: ['type', 'rid', 'ts'] } } });
    return {
      engine,
      async dispose() {
        await engine.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const mongoUri = process.env.MONGODB_URI;

export const mongoEngine: EngineUnderTest | undefined = mongoUri
  ? {
      name: 'mongodb',
      async open() {
        const database = `mtm_contract_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
        const engine = await MongoEngine.connect(mongoUri, database);
        return { engine, dispose: () => engine.close() };
      },
    }
  : undefined;

export const enginesUnderTest: EngineUnderTest[] = [embeddedEngine, ...(mongoEngine ? [mongoEngine] : [])];

let warned = false;
export function announceSkippedEngines(): void {
  if (mongoEngine || warned) return;
  warned = true;
  console.log(
    '\n  *** MongoDB contract tests SKIPPED: MONGODB_URI is not set (no MongoDB server on this machine). ' +
      'Run `MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0 npm run test:mongodb` against a replica set. ***\n',
  );
}
