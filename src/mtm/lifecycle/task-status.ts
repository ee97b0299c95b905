/**
 * The FHIR R4 Task state machine (task.html#statemachine, and the definitions of the task-status
 * codes): which status may follow which. Keeping the status is always allowed (other fields change).
 */
import type { Task } from '@medplum/fhirtypes';
import { conflict } from '../../fhir/outcome';

export type TaskStatus = Task['status'];

const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  draft: ['requested', 'ready', 'cancelled'],
  // "requested": action is sought; a performer receives, accepts or rejects it.
  requested: ['received', 'accepted', 'rejected', 'ready', 'cancelled'],
  received: ['accepted', 'rejected', 'cancelled'],
  accepted: ['ready', 'in-progress', 'cancelled'],
  // "ready": used in place of requested/received/accepted when assignment and acceptance are a given.
  ready: ['in-progress', 'cancelled'],
  'in-progress': ['on-hold', 'completed', 'failed', 'cancelled'],
  'on-hold': ['in-progress', 'failed', 'cancelled'],
  // Final states: only a correction (entered-in-error) may follow.
  completed: [],
  failed: [],
  cancelled: [],
  rejected: [],
  'entered-in-error': [],
};

export function allowedNext(from: TaskStatus): TaskStatus[] {
  return from === 'entered-in-error' ? [] : [...NEXT[from], 'entered-in-error'];
}

export function isTransitionAllowed(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || allowedNext(from).includes(to);
}

/** Throws 409 with an OperationOutcome when `to` may not follow `from`. */
export function requireTransition(taskId: string | undefined, from: TaskStatus, to: TaskStatus): void {
  if (isTransitionAllowed(from, to)) return;
  const next = allowedNext(from);
  const allowed = NEXT[from].length
    ? `from ${from} it may go to ${next.join(', ')}`
    : `${from} is a final status${next.length ? ' (only entered-in-error may follow)' : ''}`;
  throw conflict(`Task${taskId ? `/${taskId}` : ''} cannot go from ${from} to ${to}: ${allowed} (FHIR Task state machine)`, 'Task.status');
}

/** The shortest chain of legal statuses leading from `from` to `to`, excluding `from`; undefined when none. */
export function pathTo(from: TaskStatus, to: TaskStatus): TaskStatus[] | undefined {
  if (from === to) return [];
  const previous = new Map<TaskStatus, TaskStatus>();
  const queue: TaskStatus[] = [from];
  while (queue.length) {
    const status = queue.shift() as TaskStatus;
    for (const next of allowedNext(status)) {
      if (next === from || previous.has(next)) continue;
      previous.set(next, status);
      if (next === to) {
        const path: TaskStatus[] = [to];
        for (let s = status; s !== from; s = previous.get(s) as TaskStatus) path.unshift(s);
        return path;
      }
      queue.push(next);
    }
  }
  return undefined;
}
