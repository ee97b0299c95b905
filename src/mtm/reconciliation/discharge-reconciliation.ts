/**
 * Discharge reconciliation: when a hospital submits a discharge medication list for a patient
 * whose current medication list we hold, flag each submitted item (list-item-flag 01/02/04, and 05
 * for medicines that disappeared), bring the current list up to date as a new version, and open a
 * post-discharge review Task for the pharmacist when anything changed. All in the caller's transaction.
 */
import type { List, ListEntry, Resource, Task } from '@medplum/fhirtypes';
import { findMatches } from '../../interactions/conditional';
import { validateForWrite } from '../../interactions/resource-body';
import type { RequestContext } from '../../interactions/types';
import type { StorageSession } from '../../storage/port';
import { CURRENT_LIST_CODES, ITEM_FLAGS, LIST_ITEM_FLAG, tokenSearch } from '../medication-lists';
import { REVIEW_TYPE_SYSTEM } from '../review-codes';
import { compareMedicationLists, type ReconciledItem } from './compare';
import { type MedicationListWithItems, readMedicationList } from './medication-list-reader';

export interface DischargeReconciliation {
  submittedList: string;
  currentList?: string;
  items: ReconciledItem[];
  reviewTask?: string;
  /** Why nothing was reconciled, when nothing was. */
  skipped?: string;
}

function flag(outcome: ReconciledItem['outcome']) {
  const f = ITEM_FLAGS[outcome];
  return { coding: [{ system: LIST_ITEM_FLAG, code: f.code, display: f.display }] };
}

/** Validates a server-made change like any client write, then stores it in the transaction. */
async function store(ctx: RequestContext, resource: Resource, session: StorageSession): Promise<Resource> {
  const withProfiles = await validateForWrite(ctx, resource, resource.id ? 'update' : 'create');
  const repository = ctx.services.repository;
  if (withProfiles.id) return (await repository.update(withProfiles as Resource & { id: string }, { session })).resource;
  return (await repository.create(withProfiles, { session })).resource;
}

async function findCurrentList(ctx: RequestContext, patient: string, exclude: string, session: StorageSession): Promise<string | undefined> {
  const matches = await findMatches(
    ctx,
    'List',
    [
      ['subject', patient],
      ['code', tokenSearch(CURRENT_LIST_CODES)],
      ['status', 'current'],
    ],
    50,
    session,
  );
  // Several current lists: the most recently updated one is the one people have been maintaining.
  const candidates = matches.filter((l) => l.id !== exclude).sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''));
  return candidates[0]?.id;
}

export async function reconcileDischargeList(
  ctx: RequestContext,
  submittedListId: string,
  session: StorageSession,
): Promise<DischargeReconciliation> {
  const submitted = await readMedicationList(ctx, submittedListId, session);
  const patient = submitted.list.subject?.reference;
  if (!patient) return { submittedList: submittedListId, items: [], skipped: 'the discharge list has no subject' };
  const currentId = await findCurrentList(ctx, patient, submittedListId, session);
  if (!currentId) return { submittedList: submittedListId, items: [], skipped: `no current medication list is held for ${patient}` };
  const current = await readMedicationList(ctx, currentId, session);

  const items = compareMedicationLists(current.statements, submitted.statements);
  await flagSubmittedList(ctx, submitted, items, session);
  await updateCurrentList(ctx, current, items, session);
  const anythingChanged = items.some((i) => i.outcome !== 'unchanged');
  const reviewTask = anythingChanged ? await openReviewTask(ctx, patient, current.list.id, submitted.list.id, items, session) : undefined;
  return { submittedList: submittedListId, currentList: currentId, items, reviewTask };
}

async function flagSubmittedList(ctx: RequestContext, submitted: MedicationListWithItems, items: ReconciledItem[], session: StorageSession): Promise<void> {
  const byStatement = new Map(items.filter((i) => i.submitted?.id).map((i) => [`MedicationStatement/${i.submitted?.id}`, i]));
  const entries: ListEntry[] = (submitted.list.entry ?? []).map((entry) => {
    const item = entry.item?.reference ? byStatement.get(entry.item.reference) : undefined;
    return item ? { ...entry, flag: flag(item.outcome) } : entry;
  });
  for (const item of items.filter((i) => i.outcome === 'ceased' && !i.submitted)) {
    entries.push({ flag: flag('ceased'), deleted: true, item: { reference: `MedicationStatement/${item.current?.id}`, display: item.medication } });
  }
  await store(ctx, { ...submitted.list, entry: entries }, session);
}

async function updateCurrentList(ctx: RequestContext, current: MedicationListWithItems, items: ReconciledItem[], session: StorageSession): Promise<void> {
  const keptEntries = new Map((current.list.entry ?? []).map((e) => [e.item?.reference, e]));
  const entries: ListEntry[] = [];
  const date = new Date().toISOString();
  for (const item of items) {
    if (item.outcome === 'ceased') continue;
    if (item.outcome === 'unchanged') {
      const existing = keptEntries.get(`MedicationStatement/${item.current?.id}`);
      entries.push({ ...existing, item: existing?.item ?? { reference: `MedicationStatement/${item.current?.id}` }, flag: flag('unchanged') });
    } else {
      entries.push({ flag: flag(item.outcome), ...(current.list.mode === 'working' ? { date } : {}), item: { reference: `MedicationStatement/${item.submitted?.id}`, display: item.medication } });
    }
  }
  await store(ctx, { ...current.list, date, entry: entries } as List, session);
}

async function openReviewTask(
  ctx: RequestContext,
  patient: string,
  currentListId: string,
  submittedListId: string,
  items: ReconciledItem[],
  session: StorageSession,
): Promise<string> {
  const changes = items.filter((i) => i.outcome !== 'unchanged').map((i) => `${i.medication}: ${i.outcome}${i.differences.length ? ` (${i.differences.join('; ')})` : ''}`);
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: REVIEW_TYPE_SYSTEM, code: 'post-discharge-review', display: 'Post-discharge medication review' }] },
    description: `Review medication changes at hospital discharge: ${changes.join('; ')}`,
    for: { reference: patient },
    focus: { reference: `List/${currentListId}` },
    reasonReference: { reference: `List/${submittedListId}` },
    authoredOn: new Date().toISOString(),
  };
  const stored = await store(ctx, task, session);
  return `Task/${stored.id}`;
}

