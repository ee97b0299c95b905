/**
 * The background re-index of one run-time SearchParameter: walks the current versions of each of
 * its bases in `_id` order, a batch per transaction, and gives each document fresh `sp`/`sk` (the
 * resource and its version are untouched: no history, and a concurrent update wins by
 * compare-and-set, having been indexed with the parameter already).
 *
 * The job's cursor is stored in the same transaction as the batch it covers (collection
 * `search_reindex`, one document per SearchParameter id), so after a restart the job resumes at the
 * first document it had not done. Jobs run one at a time and yield to requests between batches.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from '../logger';
import type { ResourceRepository } from '../repository/repository';
import type { Filter, StorageSession } from '../storage/port';
import type { ResourceIndexer } from './indexer';
import type { SearchParameterRegistry } from './registry';

export const REINDEX_COLLECTION = 'search_reindex';

export type ReindexState = 'in-progress' | 'completed' | 'failed';

export interface ReindexJob {
  /** The SearchParameter's id. */
  _id: string;
  url: string;
  /** definitionDigest of the definition being indexed: a changed definition starts over. */
  digest: string;
  bases: string[];
  /** Index into `bases` of the type being walked, and the last `_id` done in it. */
  base: number;
  after: string;
  processed: number;
  /** Current versions of the bases when the job started. */
  total: number;
  state: ReindexState;
  error?: string;
}

export interface ReindexPace {
  /** Resources per transaction. */
  batch: number;
  /** Pause between batches, in ms (0: just yield to requests). */
  pauseMs: number;
}

export class ReindexJobs {
  private readonly queue: string[] = [];
  /** The digest each SearchParameter id is wanted at; a job whose digest is no longer wanted stops. */
  private readonly wanted = new Map<string, string>();
  private running: Promise<void> | undefined;
  private closing = false;
  /** Ends the pause between batches early when the server closes. */
  private wake: (() => void) | undefined;
  private readonly turns = new Map<string, Promise<void>>();

  constructor(
    private readonly repository: ResourceRepository,
    private readonly indexer: ResourceIndexer,
    private readonly registry: SearchParameterRegistry,
    private readonly pace: ReindexPace,
    private readonly logger?: Logger,
  ) {}

  private get jobs() {
    return this.repository.engine.collection<ReindexJob>(REINDEX_COLLECTION);
  }

  read(id: string): Promise<ReindexJob | null> {
    return this.jobs.findOne({ _id: id });
  }

  /**
   * Re-indexes the stored resources of a parameter just defined: resumes the stored job when it is
   * for the same definition (after a restart), starts over otherwise. Searches on it say they are
   * partial until the job completes.
   */
  ensure(id: string, url: string, digest: string, bases: string[]): Promise<void> {
    this.wanted.set(id, digest);
    return this.inTurn(id, () => this.prepare(id, url, digest, bases));
  }

  private async prepare(id: string, url: string, digest: string, bases: string[]): Promise<void> {
    const stored = await this.read(id);
    if (this.wanted.get(id) !== digest) return; // withdrawn or redefined meanwhile
    if (stored && stored.digest === digest && stored.url === url) {
      if (stored.state === 'completed') return this.registry.setIndexing(url, undefined);
      // Unfinished, or failed (the cause may have passed, e.g. storage unavailable): go on from the cursor.
      const { error: _error, ...unfinished } = stored;
      const resumed: ReindexJob = { ...unfinished, state: 'in-progress' };
      await this.save(resumed);
      this.registry.setIndexing(url, progressOf(resumed));
      this.enqueue(id);
      return;
    }
    let total = 0;
    for (const base of bases) total += await (await this.repository.collection(base)).countDocuments({ deleted: { $ne: true } });
    const job: ReindexJob = { _id: id, url, digest, bases, base: 0, after: '', processed: 0, total, state: 'in-progress' };
    if (this.wanted.get(id) !== digest) return;
    await this.jobs.replaceOne({ _id: id }, job, { upsert: true });
    this.registry.setIndexing(url, progressOf(job));
    this.enqueue(id);
  }

  /** The parameter was retired, deleted or redefined: its job stops and is forgotten. */
  withdraw(id: string): Promise<void> {
    this.wanted.delete(id);
    return this.inTurn(id, async () => {
      await this.jobs.deleteOne({ _id: id });
    });
  }

  /**
   * Runs the changes to one parameter's job document in the order they were asked for: retired then
   * made active again, the old document must be gone before the new job looks for one to resume.
   */
  private inTurn(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.turns.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.turns.set(id, next);
    const forget = () => {
      if (this.turns.get(id) === next) this.turns.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  /** Jobs of SearchParameters no longer active (retired while the server was down) are forgotten. */
  async forgetAllBut(ids: ReadonlySet<string>): Promise<void> {
    for (const job of await this.jobs.find({}, { projection: { _id: 1 } })) {
      if (!ids.has(job._id)) await this.jobs.deleteOne({ _id: job._id });
    }
  }

  /** Stops after the batch in progress; an unfinished job resumes at the next start. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.running;
  }

  private enqueue(id: string): void {
    if (!this.queue.includes(id)) this.queue.push(id);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let id = this.queue.shift(); id !== undefined && !this.closing; id = this.queue.shift()) {
      await this.run(id).catch(async (error: unknown) => this.fail(id as string, error));
    }
  }

  private async run(id: string): Promise<void> {
    let job = await this.read(id);
    while (job && job.state === 'in-progress' && this.wanted.get(id) === job.digest && !this.closing) {
      job = await this.step(job);
      if (job.state === 'completed') {
        this.registry.setIndexing(job.url, undefined);
        this.logger?.info('A run-time search parameter is indexed on every stored resource', { event: 'reindex-completed', searchParameter: id, resources: job.processed });
      } else this.registry.setIndexing(job.url, progressOf(job));
      if (job.state === 'in-progress') await this.pause();
    }
  }

  /** Requests get their turn between batches; close() ends the pause early. */
  private pause(): Promise<void> {
    if (this.pace.pauseMs === 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), this.pace.pauseMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** One batch and the cursor after it, in one transaction. */
  private async step(job: ReindexJob): Promise<ReindexJob> {
    const type = job.bases[job.base];
    if (type === undefined) return this.save({ ...job, state: 'completed' });
    const collection = await this.repository.collection(type);
    return this.repository.engine.withTransaction(async (session) => {
      const filter: Filter = { $and: [{ deleted: { $ne: true } }, { _id: { $gt: job.after } }] };
      const batch = await collection.find(filter, { sort: { _id: 1 }, limit: this.pace.batch, session });
      for (const doc of batch) {
        const fresh = { ...doc, ...this.indexer.index(doc.resource as Resource) };
        await collection.replaceOne({ _id: doc._id, vid: doc.vid }, fresh, { session });
      }
      const processed = job.processed + batch.length;
      const next: ReindexJob =
        batch.length < this.pace.batch
          ? { ...job, base: job.base + 1, after: '', processed }
          : { ...job, after: batch[batch.length - 1]._id, processed };
      if (next.base >= next.bases.length) next.state = 'completed';
      return this.save(next, session);
    });
  }

  /** Stores the job unless it was withdrawn or restarted meanwhile (then its document is gone or has another digest). */
  private async save(job: ReindexJob, session?: StorageSession): Promise<ReindexJob> {
    await this.jobs.replaceOne({ _id: job._id, digest: job.digest }, job, { session });
    return job;
  }

  private async fail(id: string, error: unknown): Promise<void> {
    const job = await this.read(id).catch(() => null);
    this.logger?.error('Re-indexing a run-time search parameter failed', error, { event: 'reindex-failed', searchParameter: id });
    if (!job) return;
    const failed: ReindexJob = { ...job, state: 'failed', error: 'The re-index stopped on an internal error; see the server log' };
    await this.save(failed).catch(() => undefined);
    this.registry.setIndexing(job.url, progressOf(failed));
  }
}

function progressOf(job: ReindexJob): { processed: number; total: number; failed?: boolean } {
  return { processed: job.processed, total: Math.max(job.total, job.processed), failed: job.state === 'failed' || undefined };
}
