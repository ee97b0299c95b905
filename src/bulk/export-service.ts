/**
 * Bulk export jobs as the operations see them: start one, look one up for its owner, delete one,
 * and the file behind a manifest URL. Jobs run in the background, one run per job; on start-up the
 * unfinished ones run again, and on shutdown runs stop where they are (they run again next start).
 *
 * A finished job is kept for the retention period and then removed with its files, which hold
 * patient data: a job past it is unknown at once (find), and a sweep at start-up, at each kick-off
 * and every hour removes those nobody asks about again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SecurityContext } from '../interactions/types';
import { newResourceId } from '../repository/resource-ids';
import { type ExportJob, type ExportJobStore, type ExportLevel, FINISHED_BATCH } from './export-jobs';
import type { ExportRequest } from './export-request';
import { type ExportDeps, jobDirectory, runExport } from './export-runner';

const SWEEP_EVERY_MS = 60 * 60_000;

interface Run {
  done: Promise<void>;
  deleted: boolean;
}

export class BulkExportService {
  private readonly runs = new Map<string, Run>();
  private shuttingDown = false;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly deps: ExportDeps,
    private readonly allTypes: readonly string[],
    /** How long a finished job's manifest and files are kept. */
    private readonly retentionMs: number,
  ) {}

  get jobs(): ExportJobStore {
    return this.deps.jobs;
  }

  async start(input: { level: ExportLevel; group?: string; request: ExportRequest; requestUrl: string; baseUrl: string; security: SecurityContext }): Promise<ExportJob> {
    await this.sweep();
    const job: ExportJob = { _id: newResourceId(), status: 'in-progress', ...input, transactionTime: Date.now(), output: [], typesDone: 0, typesTotal: 0 };
    await this.deps.jobs.create(job);
    this.run(job);
    return job;
  }

  /** The job, when it exists, belongs to this client and is within its retention; a job is nobody else's business. */
  async find(id: string, security: SecurityContext): Promise<ExportJob | undefined> {
    const job = await this.deps.jobs.get(id);
    if (!job || job.security.principal !== security.principal) return undefined;
    if (this.expired(job)) {
      await this.delete(job);
      return undefined;
    }
    return job;
  }

  /** When a finished job's manifest and files go; undefined while it runs. */
  expiresAt(job: ExportJob): number | undefined {
    if (job.status === 'in-progress') return undefined;
    // Jobs finished before finishedAt was recorded count from their kick-off.
    return (job.finishedAt ?? job.transactionTime) + this.retentionMs;
  }

  private expired(job: ExportJob): boolean {
    const expiresAt = this.expiresAt(job);
    return expiresAt !== undefined && expiresAt <= Date.now();
  }

  /** Removes every finished job past its retention, with its files. */
  async sweep(): Promise<number> {
    let removed = 0;
    let expired: ExportJob[];
    do {
      expired = await this.deps.jobs.finishedBefore(Date.now() - this.retentionMs + 1);
      for (const job of expired) await this.delete(job);
      removed += expired.length;
    } while (expired.length === FINISHED_BATCH);
    return removed;
  }

  /** Stops the job if it runs, and removes it and its files. */
  async delete(job: ExportJob): Promise<void> {
    const run = this.runs.get(job._id);
    if (run) {
      run.deleted = true;
      await run.done;
    }
    await this.deps.jobs.remove(job._id);
    fs.rmSync(jobDirectory(this.deps, job._id), { recursive: true, force: true });
  }

  /** The path of one of a completed job's files, when the manifest lists it. */
  filePath(job: ExportJob, file: string): string | undefined {
    if (job.status !== 'completed' || !job.output.some((o) => o.file === file)) return undefined;
    return path.join(jobDirectory(this.deps, job._id), file);
  }

  /** Runs again the jobs a previous process left unfinished, removes those past retention, and sweeps hourly from now on. */
  async resume(): Promise<number> {
    await this.sweep();
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => this.deps.logger.error('Removing expired bulk exports failed', error));
    }, SWEEP_EVERY_MS).unref();
    const unfinished = await this.deps.jobs.unfinished();
    for (const job of unfinished) this.run(job);
    return unfinished.length;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.shuttingDown = true;
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  private run(job: ExportJob): void {
    const run: Run = { deleted: false, done: Promise.resolve() };
    run.done = runExport(this.deps, job, this.allTypes, () => run.deleted || this.shuttingDown)
      .catch((error: unknown) => this.deps.logger.error('A bulk export job stopped unexpectedly', error))
      .finally(() => this.runs.delete(job._id));
    this.runs.set(job._id, run);
  }
}
