import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { CMR, GROUP_B_PATIENTS, loadAccessScenario, security, touchesOutsider } from './access-fixture';
import { type Answer, clientFor, resourcesIn } from './client';

const ids = (answer: Answer, mode?: 'match' | 'include') =>
  ((answer.body as Bundle).entry ?? [])
    .filter((e) => e.resource && e.resource.resourceType !== 'OperationOutcome' && (!mode || e.search?.mode === mode))
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();

const ok = (answer: Answer, status = 200) => {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  return answer;
};

describe('Access policy: scopes and Group binding on every path', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
  });
  after(async () => t.close());

  const payerB = () => clientFor(t, security('payer-b', 'system/*.rs', 'payer-b'));
  const cmrOnly = () => clientFor(t, security('cmr-payer', `system/Task.rs?code=${encodeURIComponent(CMR)} system/Patient.rs`));
  const noTasks = () => clientFor(t, security('demographics', 'system/Patient.rs system/Practitioner.rs'));
  const writerB = () => clientFor(t, security('hospital-b', 'system/*.cruds', 'payer-b'));

  describe('read and vread', () => {
    it('a Group-bound client reads its members and resources in no compartment', async () => {
      ok(await payerB().get('Patient/walter-nguyen'));
      ok(await payerB().get('Task/task-nguyen-pdr/_history/1'));
      ok(await payerB().get('Practitioner/pharm-okafor'));
      ok(await payerB().get('Group/payer-b'));
    });

    it("answers 404 for other patients' resources, as if they did not exist", async () => {
      for (const path of ['Patient/rosa-alvarez', 'Task/task-rosa-cmr', 'Task/task-rosa-cmr/_history/1', 'List/list-margaret-holloway', 'Group/payer-a', 'Group/other-plan']) {
        assert.equal((await payerB().get(path)).status, 404, path);
      }
    });

    it('answers 403 for a type the scopes do not cover', async () => {
      const answer = await noTasks().get('Task/task-rosa-cmr');
      assert.equal(answer.status, 403);
      assert.equal(answer.body.resourceType, 'OperationOutcome');
      assert.equal((await noTasks().get('Task/task-rosa-cmr/_history/1')).status, 403);
    });

    it('a granular scope reads only the resources its search matches', async () => {
      ok(await cmrOnly().get('Task/task-rosa-cmr'));
      assert.equal((await cmrOnly().get('Task/task-rosa-tmr')).status, 404);
    });
  });

  describe('search', () => {
    it('filters by the granular scope instead of refusing, totals and counts included', async () => {
      const answer = ok(await cmrOnly().get('Task'));
      assert.deepEqual(ids(answer), ['Task/task-holloway-cmr', 'Task/task-rosa-cmr']);
      assert.equal(answer.body.total, 2);
      assert.equal(ok(await cmrOnly().get('Task?_summary=count')).body.total, 2);
      assert.deepEqual(ids(ok(await cmrOnly().get('Task?status=requested'))), []);
    });

    it("keeps a Group-bound client to its members' compartments", async () => {
      assert.deepEqual(ids(ok(await payerB().get('Patient'))), ['Patient/walter-nguyen']);
      assert.deepEqual(ids(ok(await payerB().get('Task'))), ['Task/task-nguyen-pdr']);
      assert.deepEqual(ids(ok(await payerB().get('Group'))), ['Group/payer-b']);
      assert.deepEqual(ids(ok(await payerB().get('?_type=Patient,CarePlan'))), ['CarePlan/map-nguyen', 'Patient/walter-nguyen']);
      assert.equal(ok(await payerB().get('MedicationStatement?_summary=count')).body.total, 3);
    });

    it('answers 403 to a search on a type the scopes do not cover, also through _type', async () => {
      assert.equal((await noTasks().get('Task')).status, 403);
      assert.equal((await noTasks().get('?_type=Patient,Task')).status, 403);
      assert.equal((await noTasks().get('Patient/rosa-alvarez/Task')).status, 403);
    });

    it("compartment search of another patient finds nothing", async () => {
      assert.deepEqual(ids(ok(await payerB().get('Patient/rosa-alvarez/*'))), []);
      assert.deepEqual(ids(ok(await payerB().get('Patient/rosa-alvarez/Task'))), []);
      assert.ok(ids(ok(await payerB().get('Patient/walter-nguyen/*'))).length >= 8);
    });
  });

  describe('_include and _revinclude', () => {
    it('leaves out included resources the client may not read, never refuses', async () => {
      const answer = ok(await noTasks().get('Patient?_revinclude=Task:patient'));
      assert.deepEqual(ids(answer, 'include'), []);
      assert.equal(ids(answer, 'match').length, 3);
    });

    it('includes only what a granular scope matches', async () => {
      const answer = ok(await cmrOnly().get('Patient?_revinclude=Task:patient'));
      assert.deepEqual(ids(answer, 'include'), ['Task/task-holloway-cmr', 'Task/task-rosa-cmr']);
    });

    it("never includes another patient's resources for a Group-bound client", async () => {
      const rev = ok(await payerB().get('Practitioner?_id=pharm-okafor&_revinclude=Task:owner&_revinclude=List:source'));
      assert.deepEqual(ids(rev, 'include'), ['List/list-walter-nguyen', 'Task/task-nguyen-pdr']);
      const forward = ok(await payerB().get('Group?_include=Group:member'));
      assert.deepEqual(ids(forward, 'include'), ['Patient/walter-nguyen']);
    });
  });

  describe('chains and _has', () => {
    it('answers 403 when a chain or _has goes through a type the scopes do not cover', async () => {
      assert.equal((await noTasks().get('Patient?_has:Task:patient:code=cmr')).status, 403);
      assert.equal((await clientFor(t, security('tasks', 'system/Task.rs')).get('Task?patient.name=Holloway')).status, 403);
    });

    it("cannot use a chain or _has to learn about another patient's records", async () => {
      assert.deepEqual(ids(ok(await payerB().get('Practitioner?_has:Task:owner:patient=Patient/rosa-alvarez'))), []);
      assert.deepEqual(ids(ok(await payerB().get('Practitioner?_has:Task:owner:patient=Patient/walter-nguyen'))), ['Practitioner/pharm-okafor']);
      assert.deepEqual(ids(ok(await payerB().get('Organization?_has:Patient:organization:name=Holloway'))), []);
    });
  });

  describe('history', () => {
    it('instance history of another patient is 404; of a member, served', async () => {
      assert.equal((await payerB().get('Patient/rosa-alvarez/_history')).status, 404);
      assert.equal(ok(await payerB().get('Patient/walter-nguyen/_history')).body.total, 1);
    });

    it("type and system history hold only the client's own patients' versions", async () => {
      const typeLevel = ok(await payerB().get('Task/_history'));
      assert.deepEqual(ids(typeLevel), ['Task/task-nguyen-pdr']);
      assert.equal(typeLevel.body.entry.length, 1);
      const system = ok(await payerB().get('_history?_count=1000'));
      const outsiders = resourcesIn(system.body).filter((r) => touchesOutsider(r, GROUP_B_PATIENTS) || /^(payer-a|other-plan)$/.test(r.id ?? ''));
      assert.deepEqual(outsiders.map((r) => `${r.resourceType}/${r.id}`), []);
      assert.ok(resourcesIn(system.body).some((r) => r.id === 'walter-nguyen'));
    });

    it('history follows a granular scope, and needs the scope for the type', async () => {
      assert.deepEqual(ids(ok(await cmrOnly().get('Task/_history'))), ['Task/task-holloway-cmr', 'Task/task-rosa-cmr']);
      assert.equal((await noTasks().get('Task/_history')).status, 403);
    });
  });

  describe('writes', () => {
    const task = (patient: string): Resource =>
      ({ resourceType: 'Task', status: 'requested', intent: 'plan', code: { coding: [{ system: CMR.split('|')[0], code: 'tmr' }] }, for: { reference: `Patient/${patient}` }, authoredOn: '2024-06-01' }) as Resource;

    it("creates in its members' compartments, with meta.source naming the client", async () => {
      const created = ok(await writerB().send('POST', 'Task', task('walter-nguyen')), 201);
      assert.equal(created.body.meta.source, 'urn:mtm-fhir:client:hospital-b');
    });

    it("refuses with 403 to create, update or delete in another patient's compartment", async () => {
      assert.equal((await writerB().send('POST', 'Task', task('rosa-alvarez'))).status, 403);
      const rosaTask = (await t.api().get(`${t.base}/Task/task-rosa-tmr`)).body;
      assert.equal((await writerB().send('PUT', 'Task/task-rosa-tmr', rosaTask)).status, 403);
      // Taking another patient's resource over by rewriting it into the Group is refused too.
      assert.equal((await writerB().send('PUT', 'Task/task-rosa-tmr', { ...rosaTask, for: { reference: 'Patient/walter-nguyen' } })).status, 403);
      assert.equal((await writerB().send('DELETE', 'Patient/rosa-alvarez')).status, 403);
      // Moving a member's resource to another patient is refused too.
      const own = (await t.api().get(`${t.base}/Task/task-nguyen-pdr`)).body;
      assert.equal((await writerB().send('PUT', 'Task/task-nguyen-pdr', { ...own, for: { reference: 'Patient/rosa-alvarez' } })).status, 403);
      assert.equal((await t.api().get(`${t.base}/Patient/rosa-alvarez`)).status, 200, 'still there');
    });

    it('needs the scope letter for each write', async () => {
      const reader = payerB();
      assert.equal((await reader.send('POST', 'Task', task('walter-nguyen'))).status, 403);
      assert.equal((await reader.send('DELETE', 'Task/task-nguyen-pdr')).status, 403);
    });

    it('conditional delete and update see only what the client may see', async () => {
      const deleted = ok(await writerB().send('DELETE', `Task?code=${encodeURIComponent(CMR)}`));
      assert.match(deleted.body.issue[0].diagnostics, /No Task matched/);
      assert.equal((await t.api().get(`${t.base}/Task/task-rosa-cmr`)).status, 200);
      const rosa = (await t.api().get(`${t.base}/Patient/rosa-alvarez`)).body;
      const { id: _id, ...rosaWithoutId } = rosa;
      // The match is invisible, so this would create a second Rosa, outside the Group: refused.
      assert.equal((await writerB().send('PUT', 'Patient?identifier=http://hospital.example.org/mrn|MRN-1001', rosaWithoutId)).status, 403);
      assert.equal((await writerB().send('POST', 'Patient', rosaWithoutId, { 'If-None-Exist': 'identifier=http://hospital.example.org/mrn|MRN-1001' })).status, 403);
    });
  });

  describe('batch and transaction', () => {
    it('answers each forbidden batch entry with 403 and runs the others', async () => {
      const batch = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Patient/walter-nguyen' } },
          { request: { method: 'GET', url: 'Patient/rosa-alvarez' } },
          { request: { method: 'DELETE', url: 'Patient/rosa-alvarez' } },
          { request: { method: 'GET', url: 'Task?_count=100' } },
        ],
      };
      const answer = ok(await writerB().send('POST', '', batch));
      const statuses = answer.body.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3));
      assert.deepEqual(statuses, ['200', '404', '403', '200']);
      assert.equal(resourcesIn(answer.body).filter((r) => /rosa|holloway/.test(JSON.stringify(r))).length, 0);
    });

    it('fails a whole transaction with 403 when one entry is forbidden, writing nothing', async () => {
      const transaction = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:0b1e7c4e-1111-4c2a-9d0a-000000000001', resource: { resourceType: 'Practitioner', name: [{ family: 'Transactional' }] }, request: { method: 'POST', url: 'Practitioner' } },
          { request: { method: 'DELETE', url: 'Task/task-holloway-cmr' } },
        ],
      };
      const answer = await writerB().send('POST', '', transaction);
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.equal((await t.api().get(`${t.base}/Practitioner?family=Transactional`)).body.entry?.length ?? 0, 0);
      assert.equal((await t.api().get(`${t.base}/Task/task-holloway-cmr`)).status, 200);
    });
  });

  describe('operations', () => {
    it('$smp-query does not find another patient', async () => {
      const query = {
        resourceType: 'Parameters',
        parameter: [{ name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-1001' }] } }],
      };
      const answer = await payerB().send('POST', '$smp-query', query);
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(resourcesIn(answer.body).length, 0);
      const own = { resourceType: 'Parameters', parameter: [{ name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-1003' }] } }] };
      ok(await payerB().send('POST', '$smp-query', own));
    });

    it("$reconcile and instance $validate do not read another patient's lists", async () => {
      assert.equal((await payerB().get('List/list-rosa-alvarez/$reconcile?against=List/list-walter-nguyen')).status, 404);
      assert.equal((await payerB().get('List/list-walter-nguyen/$reconcile?against=List/list-rosa-alvarez')).status, 404);
      ok(await payerB().get('List/list-walter-nguyen/$reconcile?against=List/list-walter-nguyen'));
      assert.equal((await writerB().send('POST', 'List/list-rosa-alvarez/$validate', { resourceType: 'Parameters' })).status, 404);
    });

    it('$smp-submit writes only inside the Group: a discharge for a patient outside it is refused whole, nothing stored', async () => {
      const discharge = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/discharge/discharge-transaction.bundle.json'), 'utf8'));
      const answer = await writerB().send('POST', '$smp-submit', { resourceType: 'Parameters', parameter: [{ name: 'smp-medication-data', resource: discharge }] });
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      const stored = await t.api().get(`${t.base}/MedicationStatement?identifier=http://riverside-general.example.org/fhir/sid/medication-statement|RGH-DC-20261120-01`);
      assert.equal(stored.body.entry?.length ?? 0, 0);
      assert.equal((await payerB().send('POST', '$smp-submit', { resourceType: 'Parameters', parameter: [{ name: 'smp-medication-data', resource: discharge }] })).status, 403);
    });

    it('an operation needs its declared scopes', async () => {
      assert.equal((await noTasks().get('List/list-walter-nguyen/$reconcile?against=List/list-walter-nguyen')).status, 403);
    });
  });
});
