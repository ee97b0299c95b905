/**
 * What a completed CMR schedules: the "deliver the written summary" Task (partOf the CMR, due 14
 * days after it) and the follow-up year: Targeted Medication Reviews every `cadenceMonths` (CMS: at
 * least quarterly) and, in the last window of the year, the next annual CMR. The windows partition
 * the year after the CMR: TMR k is due in (CMR + (k-1)c months, CMR + kc months], the next CMR in the
 * rest of the year, up to CMR + 12 months. Pure: the caller stores them.
 */
import type { Reference, Task } from '@medplum/fhirtypes';
import { addDays, addMonths, localDate } from './calendar';
import { reviewCode, SUMMARY_DUE_DAYS, WRITTEN_SUMMARY_DELIVERY } from './codes';

export interface FollowUpPolicy {
  /** Months between TMRs (1-12); 3 is quarterly. */
  tmrCadenceMonths: number;
}

/** The date the CMR happened: the end of its execution period, else its start. */
export function reviewDate(cmr: Task): string | undefined {
  const when = cmr.executionPeriod?.end ?? cmr.executionPeriod?.start;
  return when ? localDate(when) : undefined;
}

function common(cmr: Task & { id: string }): Pick<Task, 'for' | 'owner' | 'requester' | 'intent' | 'priority'> {
  return {
    intent: 'order',
    priority: 'routine',
    for: cmr.for,
    ...(cmr.owner ? { owner: cmr.owner } : {}),
    ...(cmr.requester ? { requester: cmr.requester } : {}),
  };
}

export function summaryDeliveryTask(cmr: Task & { id: string }, cmrDate: string): Task {
  return {
    resourceType: 'Task',
    status: 'requested',
    ...common(cmr),
    code: WRITTEN_SUMMARY_DELIVERY,
    description: `Send the written summary of the CMR of ${cmrDate} in the CMS Standardized Format, within ${SUMMARY_DUE_DAYS} days`,
    partOf: [{ reference: `Task/${cmr.id}` }],
    authoredOn: cmrDate,
    restriction: { period: { start: cmrDate, end: addDays(cmrDate, SUMMARY_DUE_DAYS) } },
  };
}

export function followUpReviews(cmr: Task & { id: string }, cmrDate: string, policy: FollowUpPolicy): Task[] {
  const cadence = policy.tmrCadenceMonths;
  const basedOn: Reference[] = [{ reference: `Task/${cmr.id}` }];
  const tasks: Task[] = [];
  let k = 1;
  for (; k * cadence < 12; k++) {
    tasks.push({
      resourceType: 'Task',
      status: 'requested',
      ...common(cmr),
      code: reviewCode('tmr'),
      description: `Targeted medication review ${k} after the CMR of ${cmrDate}`,
      basedOn,
      authoredOn: cmrDate,
      restriction: { period: { start: addDays(addMonths(cmrDate, (k - 1) * cadence), 1), end: addMonths(cmrDate, k * cadence) } },
    });
  }
  tasks.push({
    resourceType: 'Task',
    status: 'requested',
    ...common(cmr),
    code: reviewCode('cmr'),
    description: `Annual comprehensive medication review, one year after the CMR of ${cmrDate}`,
    basedOn,
    authoredOn: cmrDate,
    restriction: { period: { start: addDays(addMonths(cmrDate, (k - 1) * cadence), 1), end: addMonths(cmrDate, 12) } },
  });
  return tasks;
}
