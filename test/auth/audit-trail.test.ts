import assert from 'node:assert/strict';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { AuditTrail } from '../../src/audit/audit-trail';
import { buildServer } from '../../src/server';
import { testConfig } from '../../src/config';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { CMR, loadAccessScenario, security } from './access-fixture';
import { type ApiClient, clientFor } from './client';

const events = (answer: { body: unknown }) => (((answer.body as Bundle).entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'AuditEvent')) as AuditEvent[];
const decoded = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');

describe('Audit trail: an AuditEvent for every request that reads or writes patient data', () => {
  let t: TestServer;
  let auditor: ApiClient;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
    auditor = clientFor(t, security('auditor', 'system/AuditEvent.rs'));
  });
  after(async () => t.close());

  const flush = () => (t.server.services.audit as AuditTrail).flush();
  const auditsOf = async (client: string, extra = '') => {
    await flush();
    const answer = await auditor.get(`AuditEvent?agent:identifier=urn:mtm-fhir:client|${client}${extra}&_count=1000`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return events(answer);
  };

  it('records a read in the BALP RESTful shape: type rest, subtype, action, outcome, period, client and address, entities', async () => {
    const reader = clientFor(t, security('reader-1', 'system/*.rs'));
    assert.equal((await reader.get('Patient/walter-nguyen')).status, 200);
    const [event, ...more] = await auditsOf('reader-1');
    assert.equal(more.length, 0);
    assert.equal(event.type.code, 'rest');
    assert.equal(event.subtype?.[0].code, 'read');
    assert.equal(event.action, 'R');
    assert.equal(event.outcome, '0');
    assert.ok(event.period?.start && event.period.end);
    const client = event.agent.find((a) => a.requestor);
    assert.equal(client?.who?.identifier?.value, 'reader-1');
    assert.equal(client?.network?.address, '192.0.2.10');
    assert.deepEqual(event.entity?.map((e) => e.what?.reference), ['Patient/walter-nguyen', 'Patient/walter-nguyen']);
    assert.equal(event.entity?.[0].role?.code, '1', 'the patient the data is about');
  });

  it('records a search with its query and the count of its results', async () => {
    const payer = clientFor(t, security('payer-search', `system/Task.rs?code=${encodeURIComponent(CMR)}`));
    assert.equal((await payer.get('Task?status=completed')).status, 200);
    const [event] = await auditsOf('payer-search');
    assert.equal(event.subtype?.[0].code, 'search-type');
    assert.equal(event.action, 'E');
    const query = event.entity?.find((e) => e.role?.code === '24');
    assert.equal(decoded(query?.query), 'Task?status=completed');
    assert.equal(query?.detail?.[0].valueString, '2');
    assert.deepEqual(
      event.entity?.filter((e) => e.role?.code === '4').map((e) => e.what?.reference).sort(),
      ['Task/task-holloway-cmr', 'Task/task-rosa-cmr'],
    );
  });

  it('stores a write\'s event in the same commit: found at once, without waiting for the buffer', async () => {
    const writer = clientFor(t, security('writer-1', 'system/*.cruds'));
    const created = await writer.send('POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Body weight' },
      subject: { reference: 'Patient/walter-nguyen' },
      valueQuantity: { value: 71, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    assert.equal(created.status, 201);
    const answer = await auditor.get(`AuditEvent?entity=Observation/${created.body.id}&action=C`);
    const [event] = events(answer);
    assert.equal(event?.subtype?.[0].code, 'create');
    assert.equal(event.agent[0].who?.identifier?.value, 'writer-1');
    assert.ok(event.entity?.some((e) => e.what?.reference === 'Patient/walter-nguyen'));
  });

  it('a refused transaction leaves no write event, and its failure is recorded', async () => {
    const writer = clientFor(t, security('writer-2', 'system/*.cruds', 'payer-b'));
    const answer = await writer.send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'DELETE', url: 'Observation/obs-nguyen-weight' } },
        { request: { method: 'DELETE', url: 'Observation/obs-rosa-weight' } },
      ],
    });
    assert.equal(answer.status, 403);
    const recorded = await auditsOf('writer-2');
    assert.deepEqual(recorded.map((e) => [e.subtype?.[0].code, e.action, e.outcome]), [['transaction', 'E', '4']]);
  });

  it('summarises one client\'s reads of a window in one event naming every resource and patient, apart from another client\'s', async () => {
    const first = clientFor(t, security('reader-summary-1', 'system/*.rs'));
    const second = clientFor(t, security('reader-summary-2', 'system/*.rs'));
    for (const id of ['walter-nguyen', 'rosa-alvarez']) assert.equal((await first.get(`Patient/${id}`)).status, 200);
    assert.equal((await second.get('Patient/margaret-holloway')).status, 200);
    const [summary, ...more] = await auditsOf('reader-summary-1');
    assert.equal(more.length, 0);
    assert.equal(summary.subtype?.[0].code, 'read');
    assert.deepEqual(
      summary.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference).sort(),
      ['Patient/rosa-alvarez', 'Patient/walter-nguyen'],
    );
    const [other] = await auditsOf('reader-summary-2');
    assert.deepEqual(other.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference), ['Patient/margaret-holloway']);
  });

  it('stores a transaction\'s writes as one event per kind of write, in the same commit', async () => {
    const writer = clientFor(t, security('writer-bundle', 'system/*.cruds'));
    const observation = (patient: string, value: number) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Body weight' },
      subject: { reference: `Patient/${patient}` },
      valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    const answer = await writer.send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'POST', url: 'Observation' }, resource: observation('walter-nguyen', 70) },
        { request: { method: 'POST', url: 'Observation' }, resource: observation('rosa-alvarez', 60) },
      ],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const created = (answer.body as Bundle).entry?.map((e) => /Observation\/[^/]+/.exec(e.response?.location ?? '')?.[0]) ?? [];
    const found = await auditor.get('AuditEvent?agent:identifier=urn:mtm-fhir:client|writer-bundle&action=C');
    const [event, ...more] = events(found);
    assert.equal(more.length, 0, 'one event for both creates');
    assert.equal(event.subtype?.[0].code, 'create');
    assert.deepEqual(event.entity?.filter((e) => e.role?.code === '4').map((e) => e.what?.reference).sort(), [...created].sort());
    assert.deepEqual(event.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference).sort(), ['Patient/rosa-alvarez', 'Patient/walter-nguyen']);
  });

  it('a batch\'s event names the entries that were stored, not one that failed and was rolled back', async () => {
    const writer = clientFor(t, security('writer-batch', 'system/*.cruds'));
    const answer = await writer.send('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'PUT', url: 'Observation/audit-batch-kept' }, resource: { resourceType: 'Observation', id: 'audit-batch-kept', status: 'final', code: { text: 'Pulse' }, subject: { reference: 'Patient/walter-nguyen' } } },
        { request: { method: 'PUT', url: 'Observation/audit-batch-refused' }, resource: { resourceType: 'Observation', id: 'audit-batch-refused', status: 'bogus', code: { text: 'Pulse' }, subject: { reference: 'Patient/walter-nguyen' } } },
      ],
    });
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body as Bundle).entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '422']);
    const found = await auditor.get('AuditEvent?agent:identifier=urn:mtm-fhir:client|writer-batch&action=C');
    const references = events(found).flatMap((e) => (e.entity ?? []).filter((x) => x.role?.code === '4').map((x) => x.what?.reference));
    assert.deepEqual(references, ['Observation/audit-batch-kept']);
  });

  it('forgets a write taken back to a savepoint: the transaction\'s event names only what commits', async () => {
    const trail = t.server.services.audit as AuditTrail;
    const audit = trail.begin({ principal: 'writer-savepoint', scopes: ['system/*.cruds'] }, { method: 'POST', segments: [], query: [], headers: {}, body: { type: 'batch' } });
    assert.ok(audit);
    const written = (id: string) => ({ type: 'Observation', id, vid: 1, method: 'POST' as const, resource: { resourceType: 'Observation' as const, id, status: 'final' as const, code: { text: 'Pulse' }, subject: { reference: 'Patient/walter-nguyen' } } });
    await t.server.services.repository.engine.withTransaction(async (session) => {
      await audit.written(written('savepoint-kept'), session);
      const mark = audit.writesMark(session);
      await audit.written(written('savepoint-taken-back'), session);
      audit.forgetWritesAfter(session, mark);
    });
    const found = await auditor.get('AuditEvent?agent:identifier=urn:mtm-fhir:client|writer-savepoint');
    const references = events(found).flatMap((e) => (e.entity ?? []).filter((x) => x.role?.code === '4').map((x) => x.what?.reference));
    assert.deepEqual(references, ['Observation/savepoint-kept']);
  });

  it('AuditEvents are searchable by agent, entity, date, type and outcome', async () => {
    const query = `&entity=Patient/walter-nguyen&type=rest&outcome=0&date=ge2020-01-01&subtype=read`;
    const found = await auditsOf('reader-1', query);
    assert.equal(found.length, 1);
    assert.equal((await auditsOf('reader-1', '&outcome=4')).length, 0);
    assert.equal((await auditsOf('reader-1', '&date=lt2020-01-01')).length, 0);
  });

  it('are readable only with a scope naming AuditEvent, and never updated or deleted through the API', async () => {
    const everything = clientFor(t, security('superuser', 'system/*.cruds'));
    assert.equal((await everything.get('AuditEvent')).status, 403);
    const [event] = await auditsOf('reader-1');
    assert.equal((await everything.get(`AuditEvent/${event.id}`)).status, 403);
    const owner = clientFor(t, security('audit-admin', 'system/AuditEvent.cruds'));
    assert.equal((await owner.send('PUT', `AuditEvent/${event.id}`, { ...event, outcome: '0' })).status, 403);
    assert.equal((await owner.send('DELETE', `AuditEvent/${event.id}`)).status, 403);
    assert.equal((await owner.send('PATCH', `AuditEvent/${event.id}`, [{ op: 'replace', path: '/outcome', value: '8' }], { 'Content-Type': 'application/json-patch+json' })).status, 403);
    assert.equal((await auditor.get(`AuditEvent/${event.id}`)).body.meta.versionId, '1');
  });

  it('does not record requests that touch no patient data', async () => {
    const reader = clientFor(t, security('reader-2', 'system/*.rs'));
    assert.equal((await reader.get('Practitioner/pharm-okafor')).status, 200);
    assert.equal((await reader.get('Practitioner?family=Okafor')).status, 200);
    assert.equal((await auditsOf('reader-2')).length, 0);
  });
});

describe('Audit trail across a clean shutdown', () => {
  it('stores every buffered read event before the server closes', async function () {
    // Two server start-ups, each with its validation worker: over 30 s on a machine at load average 25.
    this.timeout(120_000);
    const t = await startTestServer();
    await loadAccessScenario(t);
    const reader = clientFor(t, security('reader-shutdown', 'system/*.rs'));
    for (const id of ['walter-nguyen', 'rosa-alvarez', 'margaret-holloway']) assert.equal((await reader.get(`Patient/${id}`)).status, 200);
    await t.server.close();
    const reopened = await buildServer(testConfig({ dataDir: t.dataDir }));
    try {
      const auditor = clientFor({ ...t, server: reopened }, security('auditor', 'system/AuditEvent.rs'));
      const answer = await auditor.get('AuditEvent?agent:identifier=urn:mtm-fhir:client|reader-shutdown&_count=100');
      const named = events(answer).flatMap((e) => (e.entity ?? []).filter((x) => x.role?.code === '1').map((x) => x.what?.reference));
      assert.deepEqual(named.sort(), ['Patient/margaret-holloway', 'Patient/rosa-alvarez', 'Patient/walter-nguyen']);
    } finally {
      await reopened.close();
      await t.close().catch(() => undefined);
    }
  });
});
