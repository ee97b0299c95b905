/** The example CMR of examples/cmr, loaded through the API, and a fresh CMR Task built on it for each test. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource, Task } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestServer } from '../helpers/test-server';

const EXAMPLE = path.resolve(__dirname, '../../examples/cmr/completed-cmr.bundle.json');

export interface CmrExample {
  /** "Type/id" of what the example bundle stored, by resource type (first of each). */
  refs: Record<string, string>;
  /** Every stored "Type/id", in bundle order. */
  all: string[];
  /** The example's completed CMR as stored. */
  completedCmr: Task & { id: string };
}

export async function loadCmrExample(t: TestServer): Promise<CmrExample> {
  const bundle = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Bundle;
  const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const all = ((res.body as Bundle).entry ?? []).map((e) => /([A-Za-z]+\/[^/]+)\/_history/.exec(e.response?.location ?? '')?.[1] as string);
  const refs: Record<string, string> = {};
  for (const ref of all) refs[ref.split('/')[0]] ??= ref;
  const completedCmr = (await t.api().get(`${t.base}/${refs.Task}`)).body as Task & { id: string };
  return { refs, all, completedCmr };
}

let serial = 0;

/** A new CMR for the example's patient, offered (requested) and owned by the example's pharmacist. */
export async function offerCmr(t: TestServer, example: CmrExample): Promise<Task & { id: string }> {
  const { id: _id, meta: _meta, executionPeriod: _period, lastModified: _modified, ...rest } = example.completedCmr;
  const task: Task = { ...rest, status: 'requested', identifier: [{ system: 'urn:test:cmr', value: `cmr-${++serial}` }], authoredOn: '2026-11-23' };
  const res = await t.api().post(`${t.base}/Task`).set('Content-Type', FHIR_JSON).send(JSON.stringify(task));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Task & { id: string };
}

/** PUTs the task with a new status (and any other changes); returns the response. */
export function putTask(t: TestServer, task: Task & { id: string }, changes: Partial<Task>) {
  const { meta: _meta, ...body } = { ...task, ...changes };
  return t.api().put(`${t.base}/Task/${task.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
}

/** Runs the CMR through accepted and in-progress to completed on the given date (2026-12-02 local time by default). */
export async function completeCmr(t: TestServer, task: Task & { id: string }, start = '2026-12-02T14:00:00-06:00', end = '2026-12-02T14:45:00-06:00'): Promise<Task & { id: string }> {
  let current = task;
  for (const status of ['accepted', 'in-progress', 'completed'] as const) {
    const changes: Partial<Task> = { status };
    if (status !== 'accepted') changes.executionPeriod = status === 'completed' ? { start, end } : { start };
    const res = await putTask(t, current, changes);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    current = res.body as Task & { id: string };
  }
  return current;
}

export async function readResource<T extends Resource>(t: TestServer, ref: string): Promise<T> {
  const res = await t.api().get(`${t.base}/${ref}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as T;
}
