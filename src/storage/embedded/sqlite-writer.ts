/**
 * The main-thread side of the writer thread (sqlite-writer-worker.ts). Writing to SQLite, with its
 * WAL appends and checkpoints, was 15-20% of the event loop's time on create and transaction
 * workloads; on a 2-core machine another thread can take it. Groups are applied strictly in the
 * order they were sent, and each promise settles when its group is durable or has failed.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IndexSpec } from '../port';
import type { DiskCollectionLayout, PendingWrite } from './sqlite-file';
import type { WriterData, WriterReply, WriterRequest } from './sqlite-writer-worker';

/** Raised for a group the writer thread could not make durable. */
export class StorageWriteError extends Error {
  constructor(message: string) {
    super(`The embedded store could not write: ${message}`);
    this.name = 'StorageWriteError';
  }
}

function startWorker(data: WriterData): Worker {
  const extension = path.extname(__filename);
  const file = path.join(__dirname, `sqlite-writer-worker${extension}`);
  if (extension === '.ts') {
    // Running from the TypeScript sources (tests, npm run dev): the worker needs tsx's hook too.
    const hook = require.resolve('tsx/cjs');
    return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, { eval: true, workerData: data });
  }
  return new Worker(file, { workerData: data });
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private seq = 0;
  private closed?: Promise<void>;
  private onClosed?: () => void;

  constructor(data: WriterData) {
    this.worker = startWorker(data);
    // Referenced only while writes are outstanding: an idle writer must not keep a process alive,
    // a busy one must (an awaited promise alone does not).
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(error instanceof Error ? error.message : String(error)));
    this.worker.on('exit', () => {
      this.failAll('the writer thread exited');
      this.onClosed?.();
    });
  }

  declareDiskCollection(collection: string, layout: DiskCollectionLayout): void {
    this.post({ type: 'layout', collection, layout });
  }

  /** Tells the writer about an index registered on the main connection, before any write that needs it. */
  declareIndex(collection: string, ix: number, spec: IndexSpec): void {
    this.post({ type: 'index', collection, ix, spec });
  }

  /** Resolves once the writes are committed in SQLite. */
  write(writes: PendingWrite[]): Promise<void> {
    const seq = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(seq, { resolve, reject });
      this.post({ type: 'commit', seq, writes });
    });
  }

  /** Waits for every write sent so far, then closes the writer's connection and ends the thread. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.onClosed = resolve;
      this.worker.ref();
      this.post({ type: 'close' });
    });
    return this.closed;
  }

  private post(request: WriterRequest): void {
    this.worker.postMessage(request);
  }

  private settle(reply: WriterReply): void {
    if (reply.type === 'closed') return;
    const waiter = this.waiting.get(reply.seq);
    this.waiting.delete(reply.seq);
    if (this.waiting.size === 0 && !this.closed) this.worker.unref();
    if (reply.type === 'committed') waiter?.resolve();
    else waiter?.reject(new StorageWriteError(reply.message));
  }

  private failAll(message: string): void {
    for (const waiter of this.waiting.values()) waiter.reject(new StorageWriteError(message));
    this.waiting.clear();
  }
}
