/**
 * Bulk export jobs as the operations see them: start one, look one up for its owner, delete one,
 * and the file behind a manifest URL. Jobs run in the background, one run per job; on start-up the
 * unfinished ones run again, and on shutdown runs stop where they are (they run again next start).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SecurityContext } from '../interactions/types';
import { newResourceId } from '../repository/resource-ids';
import type { ExportJob, ExportJobStore, ExportLevel } from './export-jobs';
import type { ExportRequest } from './export-request';
import { type ExportDeps, jobDirectory, runExport } from './export-runner';

interface Run {
  done: Promise<void>;
  deleted: boolean;
}

export class BulkExportService {
  private readonly runs = new Map<string, Run>();
  private shuttingDown = false;

  constructor(
    private readonly deps: ExportDeps,
    private readonly allTypes: readonly string[],
  ) {}

  get jobs(): ExportJobStore {
    return this.deps.jobs;
  }

  async start(input: { level: ExportLevel; group?: string; request: ExportRequest; requestUrl: string; baseUrl: string; security: SecurityContext }): Promise<ExportJob> {
    const job: ExportJob = { _id: newResourceId(), status: 'in-progress', ...input, transactionTime: Date.now(), output: [], typesDone: 0, typesTotal: 0 };
    await this.deps.jobs.create(job);
    this.run(job);
    return job;
  }

  /** The job, when it exists and belongs to this client; a job is nobody else's business. */
  async find(id: string, security: SecurityContext): Promise<ExportJob | undefined> {
    const job = await this.deps.jobs.get(id);
    return job && job.security.principal === security.principal ? job : undefined;
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

  /** Runs again the jobs a previous process left unfinished. */
  async resume(): Promise<number> {
    const unfinished = await this.deps.jobs.unfinished();
    for (const job of unfinished) this.run(job);
    return unfinished.length;
  }

  async close(): Promise<void> {
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
