/**
 * The "deliver the written summary" Task of a CMR, for the code that sends the summary ($cmr-summary
 * with persist=true): find it, and complete it with the date the summary was sent and the document
 * sent. The Task walks the state machine's shortest legal path to completed (e.g. requested ->
 * accepted -> in-progress -> completed), one version per step, so its history says what happened.
 */
import type { Reference, Task } from '@medplum/fhirtypes';
import { conflict } from '../../fhir/outcome';
import { findMatches } from '../../interactions/conditional';
import type { RequestContext } from '../../interactions/types';
import type { StorageSession } from '../../storage/port';
import { isCmr, REVIEW_PARAMETER_SYSTEM, TASK_TYPE_SYSTEM } from './codes';
import { reviewDate, summaryDeliveryTask } from './follow-ups';
import { createValidated, updateValidated } from '../derived-writes';
import { pathTo } from './task-status';

export async function findSummaryDeliveryTask(ctx: RequestContext, cmrId: string, session?: StorageSession): Promise<(Task & { id: string }) | undefined> {
  const matches = await findMatches(
    ctx,
    'Task',
    [
      ['part-of', `Task/${cmrId}`],
      ['code', `${TASK_TYPE_SYSTEM}|written-summary-delivery`],
    ],
    1,
    session,
  );
  return matches[0] as (Task & { id: string }) | undefined;
}

export interface SummaryDelivery {
  /** The DocumentReference of the summary that was sent. */
  document: Reference;
  /** When it was sent (FHIR dateTime). */
  sent: string;
}

/**
 * Completes the CMR's written-summary Task, inside the caller's transaction. A CMR recorded as
 * completed when created has no such Task yet: it is created here. Already completed: returned as is.
 */
export async function completeSummaryDelivery(ctx: RequestContext, cmr: Task & { id: string }, delivery: SummaryDelivery, session: StorageSession): Promise<Task> {
  if (!isCmr(cmr) || cmr.status !== 'completed') throw conflict(`Task/${cmr.id} is not a completed CMR`);
  const deps = { repository: ctx.services.repository, validator: ctx.services.validator };
  let task = await findSummaryDeliveryTask(ctx, cmr.id, session);
  if (!task) {
    const date = reviewDate(cmr) as string; // a completed CMR has executionPeriod.start (mtm-task-2)
    task = (await createValidated(deps, summaryDeliveryTask(cmr, date), session)) as Task & { id: string };
  }
  if (task.status === 'completed') return task;
  const steps = pathTo(task.status, 'completed');
  if (!steps) throw conflict(`Task/${task.id} is ${task.status}: the written summary can no longer be recorded as delivered`);
  for (const status of steps) {
    const next: Task & { id: string } = { ...task, status };
    if (status === 'in-progress') next.executionPeriod = { ...task.executionPeriod, start: task.executionPeriod?.start ?? delivery.sent };
    if (status === 'completed') {
      next.executionPeriod = { ...next.executionPeriod, end: delivery.sent };
      next.output = [
        ...(task.output ?? []),
        { type: { coding: [{ system: REVIEW_PARAMETER_SYSTEM, code: 'summary-document' }] }, valueReference: delivery.document },
      ];
    }
    task = (await updateValidated(deps, next, session)) as Task & { id: string };
  }
  return task;
}
