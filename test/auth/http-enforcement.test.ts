/**
 * The access policy and the audit trail over real HTTP, with tokens from the token endpoint: the
 * client id and address the server authenticates are the ones it enforces and records.
 * (test/auth/access-policy.test.ts covers every path through the dispatcher with a SecurityContext.)
 */
import assert from 'node:assert/strict';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { AuditTrail } from '../../src/audit/audit-trail';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { CMR, loadAccessScenario, security } from './access-fixture';
import { type Answer, clientFor } from './http-client';

const ids = (answer: Answer) => ((answer.body as Bundle).entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

describe('Access policy and audit over HTTP with SMART Backend Services tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
  });
  after(async () => t.close());

  const payerB = () => clientFor(t, security('payer-b', 'system/*.rs', 'payer-b'));
  const writerB = () => clientFor(t, security('hospital-b', 'system/*.cruds', 'payer-b'));
  const cmrOnly = () => clientFor(t, security('cmr-payer', `system/Task.rs?code=${encodeURIComponent(CMR)} system/Patient.rs`));
  const auditor = () => clientFor(t, security('auditor', 'system/AuditEvent.rs'));

  it('reads its Group, not the others; a request without a token gets 401', async () => {
    assert.equal((await payerB().get('Patient/walter-nguyen')).status, 200);
    assert.equal((await payerB().get('Patient/rosa-alvarez')).status, 404);
    assert.equal((await t.api().get(`${t.base}/Patient/walter-nguyen`)).status, 401);
  });

  it('filters a search by the granular scope the token carries', async () => {
    assert.deepEqual(ids(await cmrOnly().get('Task')), ['Task/task-holloway-cmr', 'Task/task-rosa-cmr']);
    assert.equal((await cmrOnly().get('Patient?_has:Task:patient:status=completed')).status, 200);
    assert.equal((await cmrOnly().get('CarePlan')).status, 403);
  });

  it('fails a transaction whole when one entry is outside the Group, and stamps meta.source with the client id', async () => {
    const answer = await writerB().send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:5b3c7a1e-2222-4c2a-9d0a-000000000001', resource: { resourceType: 'Organization', name: 'Over HTTP' }, request: { method: 'POST', url: 'Organization' } },
        { request: { method: 'DELETE', url: 'Patient/rosa-alvarez' } },
      ],
    });
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    const created = await writerB().send('POST', 'Organization', { resourceType: 'Organization', name: 'Stamped' });
    assert.equal(created.status, 201);
    assert.equal(created.body.meta.source, `urn:mtm-fhir:client:${await writerB().id()}`);
  });

  it('records the authenticated client and its address on the AuditEvent of a read', async () => {
    assert.equal((await payerB().get('Task/task-nguyen-pdr')).status, 200);
    await (t.server.services.audit as AuditTrail).flush();
    const id = await payerB().id();
    const answer = await auditor().get(`AuditEvent?agent:identifier=urn:mtm-fhir:client|${id}&entity=Task/task-nguyen-pdr`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const [event] = ((answer.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    assert.equal(event?.subtype?.[0].code, 'read');
    assert.match(event.agent[0].network?.address ?? '', /127\.0\.0\.1|::1/);
    assert.equal((await payerB().get('AuditEvent')).status, 403, 'system/*.rs does not reach the audit trail');
  });
});
