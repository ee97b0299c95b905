/**
 * The CMR and TMR lifecycle as a write rule (it runs inside every write's transaction, whichever
 * interaction made it): Task status changes follow the FHIR Task state machine (409 otherwise), and
 * when an existing CMR moves to completed, its written-summary Task and its follow-up reviews are
 * created in the same transaction. A CMR created already completed is a record of a past review and
 * schedules nothing.
 */
import type { Task } from '@medplum/fhirtypes';
import type { ValidationPort } from '../../interactions/types';
import type { ResourceRepository, WriteRule } from '../../repository/repository';
import { createValidated } from '../derived-writes';
import { isCmr } from './codes';
import { type FollowUpPolicy, followUpReviews, reviewDate, summaryDeliveryTask } from './follow-ups';
import { requireTransition } from './task-status';

export interface LifecycleDeps {
  repository: Pick<ResourceRepository, 'create' | 'update' | 'readDocument'>;
  validator: ValidationPort;
  policy: FollowUpPolicy;
}

export function reviewLifecycleRule(deps: LifecycleDeps): WriteRule {
  return {
    check(next, previous) {
      if (next.resourceType !== 'Task' || previous?.resourceType !== 'Task') return;
      requireTransition(next.id, (previous as Task).status, (next as Task).status);
    },
    async after(stored, previous, session) {
      if (stored.resourceType !== 'Task' || previous?.resourceType !== 'Task') return;
      const task = stored as Task & { id: string };
      if (task.status !== 'completed' || (previous as Task).status === 'completed' || !isCmr(task)) return;
      const date = reviewDate(task);
      // mtm-task-2 requires executionPeriod.start on a completed review; without a date nothing can be due.
      if (!date) return;
      for (const followUp of [summaryDeliveryTask(task, date), ...followUpReviews(task, date, deps.policy)]) {
        await createValidated(deps, followUp, session);
      }
    },
  };
}
