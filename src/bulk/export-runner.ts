/**
 * Runs a bulk export job: for each type, the resources the job covers are read from storage a page
 * at a time in _id order and written as NDJSON lines to a file in the job's directory, waiting for
 * the file stream to drain, so memory stays flat whatever the size. What a job covers: its level
 * (every resource, or the Patient compartments of all patients or of a Group's members), `_since`,
 * `_typeFilter`, and what the requesting client may read (the access policy's restriction: scopes,
 * granular scope filters and its Group).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Group } from '@medplum/fhirtypes';
import { groupFilter } from '../auth/group-filter';
import type { AccessPolicyPort } from '../interactions/types';
import type { Logger } from '../logger';
import type { ResourceRepository } from '../repository/repository';
import { compartmentTypes } from '../search/compartment';
import type { SearchService } from '../search/service';
import type { ResourceDocument } from '../storage/collections';
import type { Filter } from '../storage/port';
import type { ExportJob, ExportJobStore } from './export-jobs';

const PAGE = 500;
const ALIVE: Filter = { deleted: { $ne: true } };

export interface ExportDeps {
  repository: ResourceRepository;
  search: SearchService;
  access: AccessPolicyPort;
  jobs: ExportJobStore;
  logger: Logger;
  /** Where job directories live. */
  directory: string;
}

export function jobDirectory(deps: Pick<ExportDeps, 'directory'>, jobId: string): string {
  return path.join(deps.directory, jobId.replace(/[^A-Za-z0-9-]/g, ''));
}

/** The ids of a Group's active Patient members. */
async function groupMembers(deps: ExportDeps, groupId: string): Promise<Set<string>> {
  const doc = await deps.repository.readDocument('Group', groupId);
  const group = doc?.resource as Group | undefined;
  const ids = (group?.member ?? [])
    .filter((m) => !m.inactive)
    .map((m) => /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '')?.[1])
    .filter((id): id is string => !!id);
  return new Set(ids);
}

/** The filter of one type's export, or 'none' when the job can export nothing of that type. */
async function typeFilter(deps: ExportDeps, job: ExportJob, type: string, members: Set<string> | undefined): Promise<Filter | 'none'> {
  // Resources written after the kick-off are left for the next export (the manifest's transactionTime).
  const parts: Filter[] = [ALIVE, { ts: { $lte: job.transactionTime } }];
  if (job.request.since !== undefined) parts.push({ ts: { $gte: job.request.since } });
  if (members) {
    const filter = groupFilter(type, members);
    if (!filter) return 'none';
    parts.push(filter);
  }
  const restriction = await deps.access.restriction(job.security, type, 'r');
  if (restriction === 'denied') return 'none';
  if (restriction) parts.push(restriction);
  const queries = job.request.typeFilters[type];
  if (queries?.length) {
    const filters = await Promise.all(queries.map((q) => deps.search.criteriaFilter(type, q)));
    parts.push(filters.length === 1 ? filters[0] : { $or: filters });
  }
  return { $and: parts };
}

/** Writes one type's NDJSON file; returns how many resources it holds (0: no file is kept). */
async function exportType(deps: ExportDeps, type: string, filter: Filter, file: string, stopped: () => boolean): Promise<number> {
  const collection = await deps.repository.collection(type);
  const out = fs.createWriteStream(file, { encoding: 'utf8' });
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  let count = 0;
  let after: string | undefined;
  try {
    while (!stopped()) {
      const pageFilter = after === undefined ? filter : { $and: [filter, { _id: { $gt: after } }] };
      const page: ResourceDocument[] = await collection.find(pageFilter, { sort: { _id: 1 }, limit: PAGE });
      for (const doc of page) {
        if (!doc.resource) continue;
        if (!out.write(`${JSON.stringify(doc.resource)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        count++;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]._id;
    }
  } finally {
    out.end();
    await closed;
  }
  if (count === 0) fs.rmSync(file, { force: true });
  return count;
}

/** Types the job covers, in order: those asked for, or every type of its level. */
function jobTypes(job: ExportJob, allTypes: readonly string[]): string[] {
  if (job.request.types) return job.request.types;
  return job.level === 'system' ? [...allTypes] : ['Patient', ...compartmentTypes().filter((t) => t !== 'Patient')];
}

/**
 * Runs the job to its end, saving progress after each type. `stopped` says the job was deleted or
 * the server is stopping: the run ends where it is (a stopped job is run again at the next start).
 */
export async function runExport(deps: ExportDeps, job: ExportJob, allTypes: readonly string[], stopped: () => boolean): Promise<void> {
  const dir = jobDirectory(deps, job._id);
  fs.rmSync(dir, { recursive: true, force: true }); // a run after a restart starts over
  fs.mkdirSync(dir, { recursive: true });
  try {
    const members = job.level === 'group' ? await groupMembers(deps, job.group as string) : undefined;
    const types = jobTypes(job, allTypes);
    const compartment = new Set(compartmentTypes());
    job.output = [];
    job.typesTotal = types.length;
    job.typesDone = 0;
    for (const type of types) {
      if (stopped()) return;
      // A Patient-level export covers the patients' compartments: no type outside them.
      const outside = job.level === 'patient' && type !== 'Patient' && !compartment.has(type);
      const filter = outside ? 'none' : await typeFilter(deps, job, type, members);
      if (filter !== 'none') {
        const file = `${type}.ndjson`;
        const count = await exportType(deps, type, filter, path.join(dir, file), stopped);
        if (stopped()) return;
        if (count > 0) job.output.push({ type, file, count });
      }
      job.typesDone++;
      await deps.jobs.save(job);
    }
    job.status = 'completed';
    job.finishedAt = Date.now();
    await deps.jobs.save(job);
  } catch (error) {
    if (stopped()) return;
    deps.logger.error('A bulk export job failed', error);
    job.status = 'failed';
    job.error = 'The export failed on the server; the incident has been logged';
    job.finishedAt = Date.now();
    await deps.jobs.save(job).catch(() => undefined);
  }
}
