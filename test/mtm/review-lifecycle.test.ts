import { testConfig } from '../../src/config';
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Task } from '@medplum/fhirtypes';
import { completeSummaryDelivery, findSummaryDeliveryTask } from '../../src/mtm/lifecycle/summary-delivery';
import { ANONYMOUS, type RequestContext } from '../../src/interactions/types';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { expectIds, search } from '../search/search-helpers';
import { type CmrExample, completeCmr, loadCmrExample, offerCmr, putTask, readResource } from './cmr-fixture';

const TASK_TYPE = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-task-type';
const REVIEW_TYPE = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type';

async function tasksBasedOn(t: TestServer, cmr: string): Promise<Task[]> {
  const res = await t.api().get(`${t.base}/Task?based-on=${cmr}&_count=100&_sort=due`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as Task);
}

const window = (task: Task) => [task.restriction?.period?.start, task.restriction?.period?.end];

describe('The CMR and TMR lifecycle', () => {
  let t: TestServer;
  let example: CmrExample;
  before(async () => {
    t = await startTestServer();
    example = await loadCmrExample(t);
  });
  after(async () => t.close());

  describe('Task status follows the FHIR Task state machine', () => {
    it('a CMR goes requested -> accepted -> in-progress -> completed', async () => {
      const done = await completeCmr(t, await offerCmr(t, example));
      assert.equal(done.status, 'completed');
      const history = await t.api().get(`${t.base}/Task/${done.id}/_history`);
      assert.deepEqual(((history.body as Bundle).entry ?? []).map((e) => (e.resource as Task).status), ['completed', 'in-progress', 'accepted', 'requested']);
    });

    it('completed -> in-progress is 409 with an OperationOutcome, and the Task stays as it was', async () => {
      const done = await completeCmr(t, await offerCmr(t, example));
      const res = await putTask(t, done, { status: 'in-progress' });
      assert.equal(res.status, 409);
      const outcome = res.body as OperationOutcome;
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.match(outcome.issue[0].diagnostics ?? '', /cannot go from completed to in-progress: completed is a final status/);
      assert.deepEqual(outcome.issue[0].expression, ['Task.status']);
      const stored = await readResource<Task>(t, `Task/${done.id}`);
      assert.equal(stored.status, 'completed');
      assert.equal(stored.meta?.versionId, done.meta?.versionId);
    });

    it('skipping the work (requested -> completed) is 409 and names the statuses that may follow', async () => {
      const offered = await offerCmr(t, example);
      const res = await putTask(t, offered, { status: 'completed', executionPeriod: { start: '2026-12-02' } });
      assert.equal(res.status, 409);
      assert.match((res.body as OperationOutcome).issue[0].diagnostics ?? '', /from requested it may go to received, accepted, rejected, ready, cancelled, entered-in-error/);
    });

    it('is enforced on PATCH and inside a transaction too, where nothing of the transaction is written', async () => {
      const done = await completeCmr(t, await offerCmr(t, example));
      const patched = await t
        .api()
        .patch(`${t.base}/Task/${done.id}`)
        .set('Content-Type', 'application/json-patch+json')
        .send(JSON.stringify([{ op: 'replace', path: '/status', value: 'on-hold' }]));
      assert.equal(patched.status, 409, JSON.stringify(patched.body));

      const before = (await search(t, 'Patient', { _summary: 'count' })).bundle.total;
      const { meta: _meta, ...body } = { ...done, status: 'requested' as const };
      const transaction: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Patient', name: [{ family: 'Rollback' }] }, request: { method: 'POST', url: 'Patient' } },
          { resource: body, request: { method: 'PUT', url: `Task/${done.id}` } },
        ],
      };
      const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(transaction));
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal((await search(t, 'Patient', { _summary: 'count' })).bundle.total, before);
    });

    it('a Task may always be marked entered-in-error, and a cancelled one cannot be restarted', async () => {
      const offered = await offerCmr(t, example);
      const cancelled = await putTask(t, offered, { status: 'cancelled' });
      assert.equal(cancelled.status, 200);
      assert.equal((await putTask(t, cancelled.body, { status: 'requested' })).status, 409);
      assert.equal((await putTask(t, cancelled.body, { status: 'entered-in-error' })).status, 200);
    });
  });

  describe('completing a CMR', () => {
    let cmr: Task & { id: string };
    before(async () => {
      cmr = await completeCmr(t, await offerCmr(t, example));
    });

    it('opens the "deliver the written summary" Task, part of the CMR, due 14 days after it', async () => {
      const res = await search(t, 'Task', { 'part-of': `Task/${cmr.id}` });
      assert.equal(res.ids.length, 1);
      const summary = res.bundle.entry?.[0].resource as Task;
      assert.deepEqual(summary.code?.coding?.map((c) => [c.system, c.code]), [[TASK_TYPE, 'written-summary-delivery']]);
      assert.equal(summary.status, 'requested');
      assert.equal(summary.for?.reference, cmr.for?.reference);
      assert.equal(summary.owner?.reference, cmr.owner?.reference);
      // The CMR happened on 2026-12-02 (local time at the pharmacy): the summary is due 2026-12-16.
      assert.deepEqual(window(summary), ['2026-12-02', '2026-12-16']);
    });

    it('schedules quarterly TMRs and the next annual CMR, each requested with its due window', async () => {
      const followUps = await tasksBasedOn(t, `Task/${cmr.id}`);
      assert.deepEqual(
        followUps.map((f) => [f.code?.coding?.[0].system, f.code?.coding?.[0].code, f.status, ...window(f)]),
        [
          [REVIEW_TYPE, 'tmr', 'requested', '2026-12-03', '2027-03-02'],
          [REVIEW_TYPE, 'tmr', 'requested', '2027-03-03', '2027-06-02'],
          [REVIEW_TYPE, 'tmr', 'requested', '2027-06-03', '2027-09-02'],
          [REVIEW_TYPE, 'cmr', 'requested', '2027-09-03', '2027-12-02'],
        ],
      );
      for (const f of followUps) {
        assert.equal(f.for?.reference, cmr.for?.reference);
        assert.equal(f.owner?.reference, cmr.owner?.reference);
        assert.ok(f.meta?.profile?.includes('http://mtm-fhir.org/fhir/StructureDefinition/mtm-review-task'), 'validated against the review Task profile');
      }
    });

    it('schedules nothing for a CMR created already completed (a record of a past review)', async () => {
      assert.deepEqual(await tasksBasedOn(t, `Task/${example.completedCmr.id}`), []);
      assert.equal((await search(t, 'Task', { 'part-of': `Task/${example.completedCmr.id}` })).ids.length, 0);
    });

    it('a pharmacist\'s worklist is one query over the due date; the overdue list the same query with an earlier date', async () => {
      const owner = cmr.owner?.reference as string;
      const summary = (await search(t, 'Task', { 'part-of': `Task/${cmr.id}` })).ids;
      const tmr1 = (await tasksBasedOn(t, `Task/${cmr.id}`))[0].id as string;
      const dueSoon = await search(t, 'Task', [['owner', owner], ['status', 'requested,accepted'], ['due', 'lt2026-12-15'], ['based-on', `Task/${cmr.id}`]]);
      assert.deepEqual(dueSoon.ids, [], 'nothing of this CMR is due before 2026-12-15');
      const worklist = await search(t, 'Task', [['owner', owner], ['status', 'requested,accepted'], ['due', 'lt2027-03-03'], ['_count', '100']]);
      assert.ok(worklist.ids.includes(summary[0]) && worklist.ids.includes(tmr1), 'the summary and the first TMR are on the worklist');
      assert.ok(worklist.ids.every((id) => id !== cmr.id), 'the completed CMR is not');
      await expectIds(t, 'Task', [['part-of', `Task/${cmr.id}`], ['due', 'lt2026-12-17']], summary);
      await expectIds(t, 'Task', [['part-of', `Task/${cmr.id}`], ['due', 'lt2026-12-16']], []);
    });
  });

  describe('delivering the written summary (for $cmr-summary)', () => {
    const ctx = (): RequestContext => ({ services: t.server.services, baseUrl: 'http://localhost/fhir', security: ANONYMOUS });

    it('completes the summary Task with the date sent and the document, through the state machine', async () => {
      const cmr = await completeCmr(t, await offerCmr(t, example));
      const engine = t.server.services.repository.engine;
      const done = await engine.withTransaction((session) =>
        completeSummaryDelivery(ctx(), cmr, { document: { reference: 'DocumentReference/summary-1' }, sent: '2026-12-09' }, session),
      );
      assert.equal(done.status, 'completed');
      assert.equal(done.executionPeriod?.end, '2026-12-09');
      assert.equal(done.output?.[0].valueReference?.reference, 'DocumentReference/summary-1');
      const history = await t.api().get(`${t.base}/Task/${done.id}/_history`);
      assert.deepEqual(((history.body as Bundle).entry ?? []).map((e) => (e.resource as Task).status).reverse(), ['requested', 'accepted', 'in-progress', 'completed']);
    });

    it('creates the summary Task for a CMR recorded as completed, and completes it', async () => {
      const engine = t.server.services.repository.engine;
      const cmr = example.completedCmr;
      await engine.withTransaction((session) => completeSummaryDelivery(ctx(), cmr, { document: { reference: 'DocumentReference/summary-2' }, sent: '2026-12-05' }, session));
      const found = await findSummaryDeliveryTask(ctx(), cmr.id);
      assert.equal(found?.status, 'completed');
      assert.deepEqual(window(found as Task), ['2026-12-02', '2026-12-16']);
    });
  });
});

describe('The TMR cadence is configurable', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ mtm: { ...testConfig().mtm, tmrCadenceMonths: 6 } });
  });
  after(async () => t.close());

  it('every six months: one TMR, then the next CMR; a month without the CMR\'s day ends on its last day', async () => {
    const example = await loadCmrExample(t);
    const cmr = await completeCmr(t, await offerCmr(t, example), '2027-08-31T10:00:00Z', '2027-08-31T11:00:00Z');
    const followUps = await tasksBasedOn(t, `Task/${cmr.id}`);
    assert.deepEqual(
      followUps.map((f) => [f.code?.coding?.[0].code, ...window(f)]),
      [
        ['tmr', '2027-09-01', '2028-02-29'],
        ['cmr', '2028-03-01', '2028-08-31'],
      ],
    );
  });
});
