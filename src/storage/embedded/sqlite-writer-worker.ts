/**
 * The embedded engine's writer thread: applies each group of committed changes to SQLite in one
 * transaction, off the event loop. It owns the only connection that writes after start-up, so it
 * also runs the WAL checkpoints. After a failed commit it refuses every later one, because later
 * groups were built on the state of the failed one (see embedded-engine.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IndexSpec } from '../port';
import type { DiskCollectionLayout, PendingWrite } from './sqlite-file';
import { SqliteFile } from './sqlite-file';

export type WriterRequest =
  | { type: 'layout'; collection: string; layout: DiskCollectionLayout }
  | { type: 'index'; collection: string; ix: number; spec: IndexSpec }
  | { type: 'commit'; seq: number; writes: PendingWrite[] }
  | { type: 'close' };

export type WriterReply = { type: 'committed'; seq: number } | { type: 'failed'; seq: number; message: string } | { type: 'closed' };

export interface WriterData {
  dataDir: string;
  synchronous: 'NORMAL' | 'FULL';
}

const { dataDir, synchronous } = workerData as WriterData;
const sqlite = new SqliteFile(dataDir, synchronous);
const port = parentPort as NonNullable<typeof parentPort>;
let failure: string | undefined;

port.on('message', (request: WriterRequest) => {
  switch (request.type) {
    case 'layout':
      sqlite.ensureDiskCollection(request.collection, request.layout);
      return;
    case 'index':
      sqlite.keys.declare(request.collection, request.ix, request.spec);
      return;
    case 'commit':
      if (failure) return port.postMessage({ type: 'failed', seq: request.seq, message: failure } satisfies WriterReply);
      try {
        sqlite.commit(request.writes);
        port.postMessage({ type: 'committed', seq: request.seq } satisfies WriterReply);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
        port.postMessage({ type: 'failed', seq: request.seq, message: failure } satisfies WriterReply);
      }
      return;
    case 'close':
      sqlite.close();
      port.postMessage({ type: 'closed' } satisfies WriterReply);
      port.close();
  }
});
