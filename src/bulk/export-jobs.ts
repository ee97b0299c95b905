/**
 * Bulk export jobs, kept in storage (collection `bulk_export_jobs`) so that a restart neither loses
 * a finished export's manifest nor an unfinished one: at start-up, unfinished jobs run again.
 */
import type { SecurityContext } from '../interactions/types';
import type { DocumentCollection, StorageEngine } from '../storage/port';
import type { ExportRequest } from './export-request';

export type ExportLevel = 'system' | 'patient' | 'group';
export type JobStatus = 'in-progress' | 'completed' | 'failed';

export interface ExportOutput {
  type: string;
  /** File name inside the job's directory. */
  file: string;
  count: number;
}

export interface ExportJob {
  _id: string;
  status: JobStatus;
  level: ExportLevel;
  /** For a Group export, the Group's id. */
  group?: string;
  request: ExportRequest;
  /** The kick-off URL, as the manifest's `request`. */
  requestUrl: string;
  /** The base URL the client used, for the file URLs of the manifest. */
  baseUrl: string;
  /** Who asked: the job reads with their scopes and Group, and only they may poll it or fetch its files. */
  security: SecurityContext;
  /** When the export's snapshot was taken (epoch ms): resources written after it are left for the next export. */
  transactionTime: number;
  output: ExportOutput[];
  /** Types done, for X-Progress. */
  typesDone: number;
  typesTotal: number;
  error?: string;
  /** When the job completed or failed (epoch ms): its retention runs from then. */
  finishedAt?: number;
}

export const JOB_COLLECTION = 'bulk_export_jobs';
/** Most jobs finishedBefore returns at once. */
export const FINISHED_BATCH = 1000;

export class ExportJobStore {
  private readonly jobs: DocumentCollection<ExportJob>;

  constructor(engine: StorageEngine) {
    this.jobs = engine.collection<ExportJob>(JOB_COLLECTION);
  }

  async create(job: ExportJob): Promise<void> {
    await this.jobs.insertOne(job);
  }

  get(id: string): Promise<ExportJob | null> {
    return this.jobs.findOne({ _id: id });
  }

  async save(job: ExportJob): Promise<void> {
    await this.jobs.replaceOne({ _id: job._id }, job);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.jobs.deleteOne({ _id: id })).deletedCount > 0;
  }

  /** Jobs that finished before `cutoff` (epoch ms), a bounded number at a time. */
  finishedBefore(cutoff: number): Promise<ExportJob[]> {
    const unrecorded = { finishedAt: { $exists: false }, status: { $ne: 'in-progress' }, transactionTime: { $lt: cutoff } };
    return this.jobs.find({ $or: [{ finishedAt: { $lt: cutoff } }, unrecorded] }, { sort: { _id: 1 }, limit: FINISHED_BATCH });
  }

  unfinished(): Promise<ExportJob[]> {
    return this.jobs.find({ status: 'in-progress' }, { sort: { _id: 1 }, limit: 1000 });
  }
}
