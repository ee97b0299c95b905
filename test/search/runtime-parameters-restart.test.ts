import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Group, SearchParameter } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { authHeader, tokenFor } from '../helpers/auth';
import { expectIds, search } from './search-helpers';
import { completed, patientPreferring, pharmacyParameter, post, put, waitForStatus } from './runtime-parameters-helpers';

describe('A run-time SearchParameter across restarts', function () {
  this.timeout(120_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-runtime-sp-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const STORED = ['a1', 'a2', 'a3', 'a4', 'a5'];
  let sp: SearchParameter & { id: string };

  /** A server on the shared data directory; closing it keeps the data. */
  async function start(searchReindex: { batch: number; pauseMs: number }): Promise<TestServer> {
    const t = await startTestServer({ dataDir, searchReindex });
    return { ...t, close: () => t.server.close() };
  }

  it('while its re-index runs, searches answer with what is indexed and say they are partial', async () => {
    // Two resources per batch and an hour between batches: the re-index stops after its first batch.
    const t = await start({ batch: 2, pauseMs: 3_600_000 });
    try {
      for (const id of STORED) assert.equal((await put(t, patientPreferring(id, 'Corner Pharmacy'))).status, 201);
      const res = await post(t, pharmacyParameter());
      assert.equal(res.status, 201, JSON.stringify(res.body));
      sp = res.body as SearchParameter & { id: string };
      const status = await waitForStatus(t, sp.id, (s) => s.processed === 2);
      assert.deepEqual([status.applied, status.status, status.total], ['active', 'in-progress', 5]);

      assert.equal((await put(t, patientPreferring('b-new', 'Corner Pharmacy'))).status, 201);
      const partial = await search(t, 'Patient', { 'preferred-pharmacy': 'corner' });
      assert.deepEqual(partial.ids.sort(), ['a1', 'a2', 'b-new'], 'the first batch (in id order) and the new write');
      assert.match(partial.warnings.join(' '), /Results may be incomplete.*still being re-indexed \(2 of 5 done\)/);
      const entry = partial.bundle.entry?.find((e) => e.search?.mode === 'outcome');
      assert.equal((entry?.resource as { issue: Array<{ code: string }> }).issue[0].code, 'incomplete');

      // A conditional create on it could miss a stored match and make a duplicate: refused until the re-index is done.
      const conditional = await post(t, patientPreferring('ignored', 'Corner Pharmacy'), { 'If-None-Exist': 'preferred-pharmacy:exact=Corner Pharmacy' });
      assert.equal(conditional.status, 409, JSON.stringify(conditional.body));
      assert.match(JSON.stringify(conditional.body), /still being re-indexed/);
    } finally {
      await t.close();
    }
  });

  it('after a restart the re-index resumes, completes and searches find every resource', async () => {
    const t = await start({ batch: 2, pauseMs: 0 });
    try {
      const status = await waitForStatus(t, sp.id, completed);
      assert.equal(status.processed, 6, 'resumed after the first batch: 2 before the restart, then a3..a5 and b-new');
      const found = await expectIds(t, 'Patient', { 'preferred-pharmacy': 'corner' }, [...STORED, 'b-new']);
      assert.deepEqual(found.warnings, []);
      const conditional = await post(t, patientPreferring('ignored', 'Corner Pharmacy'), { 'If-None-Exist': 'preferred-pharmacy:exact=Corner Pharmacy' });
      assert.equal(conditional.status, 412, 'once indexed, the condition finds the six matches');
      // retired now, it stays retired across the next restart
      assert.equal((await put(t, { ...sp, status: 'retired' })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('a retired one stays stopped after a restart; made active again, it works', async () => {
    const t = await start({ batch: 200, pauseMs: 0 });
    try {
      const unknown = await search(t, 'Patient', { 'preferred-pharmacy': 'corner' });
      assert.equal(unknown.ids.length, 6);
      assert.match(unknown.warnings.join(' '), /preferred-pharmacy/);
      assert.equal((await put(t, { ...sp, status: 'active' })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('an active one is applied again at start-up, to stored and new resources', async () => {
    const t = await start({ batch: 200, pauseMs: 0 });
    try {
      await waitForStatus(t, sp.id, completed);
      await expectIds(t, 'Patient', { 'preferred-pharmacy:exact': 'Corner Pharmacy' }, [...STORED, 'b-new']);
      assert.equal((await put(t, patientPreferring('c-after-restart', 'Corner Pharmacy'))).status, 201);
      await expectIds(t, 'Patient', { 'preferred-pharmacy:exact': 'Corner Pharmacy' }, [...STORED, 'b-new', 'c-after-restart']);
    } finally {
      await t.close();
    }
  });
});

describe('Run-time SearchParameters and access control', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('defining one needs write scope on SearchParameter (403 without), and reading its status read scope', async () => {
    // Data first, while the server is still open (no client registered yet).
    for (const id of ['member', 'not-member']) assert.equal((await put(t, patientPreferring(id, 'Corner Pharmacy'))).status, 201);
    const group: Group = { resourceType: 'Group', id: 'plan-members', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/member' } }] };
    assert.equal((await put(t, group)).status, 201);
    const clinician = authHeader(await tokenFor(t, { scopes: 'system/Patient.cruds system/SearchParameter.rs' }));
    const denied = await post(t, pharmacyParameter(), clinician);
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.equal((denied.body as { resourceType: string }).resourceType, 'OperationOutcome');
    assert.equal((await search(t, 'SearchParameter', { url: pharmacyParameter().url }, clinician)).ids.length, 0, 'nothing was stored');

    const admin = authHeader(await tokenFor(t, { scopes: 'system/SearchParameter.cruds' }));
    const created = await post(t, pharmacyParameter(), admin);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body as { id: string }).id;
    assert.equal((await t.api().get(`${t.base}/SearchParameter/${id}/$reindex-status`).set(admin)).status, 200);

    const patientsOnly = authHeader(await tokenFor(t, { scopes: 'system/Patient.rs' }));
    assert.equal((await t.api().get(`${t.base}/SearchParameter/${id}/$reindex-status`).set(patientsOnly)).status, 403);
    assert.equal((await put(t, { ...(created.body as SearchParameter), status: 'retired' }, clinician)).status, 403, 'nor may it retire one');
    assert.equal((await reindexStatusAs(t, id, admin)).applied, 'active');
  });

  it('a Group-bound client searching on it sees only its Group', async () => {
    const planClient = authHeader(await tokenFor(t, { scopes: 'system/Patient.rs', group: 'Group/plan-members' }));
    const everyone = authHeader(await tokenFor(t, { scopes: 'system/Patient.rs system/SearchParameter.rs' }));
    const id = (await search(t, 'SearchParameter', { url: pharmacyParameter().url }, everyone)).ids[0];
    await waitForStatus(t, id, completed, everyone);
    await expectIds(t, 'Patient', { 'preferred-pharmacy': 'corner' }, ['member', 'not-member'], everyone);
    await expectIds(t, 'Patient', { 'preferred-pharmacy': 'corner' }, ['member'], planClient);
  });
});

async function reindexStatusAs(t: TestServer, id: string, headers: Record<string, string>) {
  const res = await t.api().get(`${t.base}/SearchParameter/${id}/$reindex-status`).set(headers);
  return Object.fromEntries(((res.body as { parameter?: Array<{ name: string; valueCode?: string }> }).parameter ?? []).map((p) => [p.name, p.valueCode]));
}
