/**
 * Asynchronous runs of system-level $mtm-eligibility (the FHIR asynchronous request pattern:
 * 202 with a status URL, polled until done). Jobs live in memory: a restart loses them, and a
 * client then starts again. Only the client that started a job may read it.
 */
import { randomUUID } from 'node:crypto';
import type { Parameters } from '@medplum/fhirtypes';

export interface EligibilityJob {
  id: string;
  principal: string;
  total: number;
  done: number;
  result?: Parameters;
  error?: string;
  finishedAt?: number;
}

/** Finished jobs are kept this long for the client to collect. */
const KEEP_MS = 60 * 60 * 1000;
const jobs = new Map<string, EligibilityJob>();

function sweep(now: number): void {
  for (const [id, job] of jobs) if (job.finishedAt !== undefined && now - job.finishedAt > KEEP_MS) jobs.delete(id);
}

export function startJob(principal: string, total: number, run: (job: EligibilityJob) => Promise<Parameters>): EligibilityJob {
  sweep(Date.now());
  const job: EligibilityJob = { id: randomUUID(), principal, total, done: 0 };
  jobs.set(job.id, job);
  // Runs after this request has answered 202; errors end the job, never the process.
  setImmediate(() => {
    run(job)
      .then((result) => {
        job.result = result;
      })
      .catch((error: unknown) => {
        job.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        job.finishedAt = Date.now();
      });
  });
  return job;
}

export function findJob(id: string): EligibilityJob | undefined {
  return jobs.get(id);
}

export function cancelJob(id: string): boolean {
  return jobs.delete(id);
}
