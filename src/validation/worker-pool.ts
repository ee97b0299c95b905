/**
 * Validation on worker threads. Validation is CPU work of ~100-150 µs per resource; on the event
 * loop it serialises with everything else the server does. In workers it runs beside request
 * parsing, search indexing and storage, and the entries of a transaction are checked in parallel
 * before the transaction takes the write lock.
 *
 * A worker that dies fails only the validations it had in flight (503, the client may retry) and is
 * replaced; so does one that spends longer than `jobTimeoutMs` on one job, which only pathological
 * input could make it do. A worker that dies before it is ready fails start-up: that is a broken
 * installation.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { FhirError, issue } from '../fhir/outcome';
import type { ValidationResult } from './pipeline';
import type { ValidationItem, ValidationJob, WorkerMessage, WorkerSetup } from './worker-protocol';

interface PendingJob {
  size: number;
  timer?: NodeJS.Timeout;
  resolve(results: ValidationResult[]): void;
  reject(error: Error): void;
}

interface PoolWorker {
  thread: Worker;
  pending: Map<number, PendingJob>;
  /** Items sent and not yet answered: new work goes to the least loaded worker. */
  load: number;
  ready: Promise<void>;
}

/** The compiled worker next to this file; under tsx (tests, tools) the TypeScript source. */
function startThread(setup: WorkerSetup): Worker {
  const file = path.join(__dirname, `validation-worker${path.extname(__filename)}`);
  if (file.endsWith('.ts')) {
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: setup });
  }
  return new Worker(file, { workerData: setup });
}

/** Small enough that results stream back, large enough that messaging stays cheap (~1 ms of work). */
const ITEMS_PER_JOB = 10;

function workerStopped(): FhirError {
  return new FhirError(503, [issue('error', 'transient', 'The validator stopped while checking this resource; nothing was stored. Please retry.')]);
}

export class ValidationWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextJob = 1;
  private closing = false;
  /** Resolves once every worker has built and warmed its pipeline; rejects if one cannot. */
  readonly ready: Promise<void>;

  constructor(
    size: number,
    private readonly setup: WorkerSetup,
    /** A number, or a function read as each job starts (a test lowers the limit, then raises it). */
    private readonly jobTimeoutMs: number | (() => number) = 60_000,
    /** Told when a worker that had started exits and is replaced (for the operator's log). */
    private readonly onWorkerReplaced: (exitCode: number) => void = () => undefined,
  ) {
    if (size < 1) throw new Error('A validation worker pool needs at least one worker');
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(false));
    this.ready = Promise.all(this.workers.map((w) => w.ready)).then(() => undefined);
    // Start-up awaits `ready`; until then a failure must not surface as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /**
   * One promise per item, in the items' order. The items go out in jobs of a few, each to the least
   * loaded worker, so that results arrive while later items are still being checked: a transaction
   * can write its first entries while its last are validated.
   */
  validateEach(items: ValidationItem[]): Promise<ValidationResult>[] {
    if (this.closing || this.workers.length === 0) return items.map(() => Promise.reject(workerStopped()));
    const results: Promise<ValidationResult>[] = [];
    for (let start = 0; start < items.length; start += ITEMS_PER_JOB) {
      const worker = this.workers.reduce((least, w) => (w.load < least.load ? w : least));
      const job = this.send(worker, items.slice(start, start + ITEMS_PER_JOB));
      for (let i = start; i < Math.min(items.length, start + ITEMS_PER_JOB); i++) results.push(job.then((r) => r[i - start]));
    }
    return results;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }

  private send(worker: PoolWorker, items: ValidationItem[]): Promise<ValidationResult[]> {
    const id = this.nextJob++;
    return new Promise((resolve, reject) => {
      // The clock starts once the worker is ready: a replacement may still be warming up.
      const job: PendingJob = { size: items.length, resolve, reject };
      worker.ready.then(
        () => {
          const limit = typeof this.jobTimeoutMs === 'number' ? this.jobTimeoutMs : this.jobTimeoutMs();
          if (worker.pending.has(id)) job.timer = setTimeout(() => void worker.thread.terminate(), limit);
        },
        () => undefined, // the exit handler has already failed the job
      );
      worker.pending.set(id, job);
      worker.load += items.length;
      worker.thread.postMessage({ id, items: JSON.stringify(items) } satisfies ValidationJob);
    });
  }

  /** A replacement always gets replaced in turn: the installation is known to work. */
  private spawn(replacement: boolean): PoolWorker {
    const thread = startThread(this.setup);
    let becameReady = false;
    let markReady: () => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    const worker: PoolWorker = {
      thread,
      pending: new Map(),
      load: 0,
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        failStart = reject;
      }),
    };
    worker.ready.catch(() => undefined);
    let failure: Error | undefined;
    thread.on('message', (message: WorkerMessage) => {
      if (message.kind === 'ready') {
        becameReady = true;
        markReady();
        return;
      }
      const job = worker.pending.get(message.id);
      if (!job) return;
      worker.pending.delete(message.id);
      worker.load -= job.size;
      clearTimeout(job.timer);
      job.resolve(message.results);
    });
    thread.on('error', (error) => {
      failure = error;
    });
    thread.on('exit', (code) => {
      for (const job of worker.pending.values()) {
        clearTimeout(job.timer);
        job.reject(workerStopped());
      }
      worker.pending.clear();
      if (!becameReady) failStart(new Error(`A validation worker failed to start (exit code ${code}): ${failure?.message ?? 'no error reported'}`));
      const at = this.workers.indexOf(worker);
      if (at >= 0) this.workers.splice(at, 1);
      if (!this.closing && (becameReady || replacement)) {
        this.onWorkerReplaced(code);
        this.workers.push(this.spawn(true));
      }
    });
    return worker;
  }
}
