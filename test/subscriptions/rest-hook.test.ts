/**
 * R4 rest-hook Subscriptions over real HTTP, with a real receiver on 127.0.0.1 (allowed by
 * SUBSCRIPTION_ALLOW_PRIVATE, which these servers set): what the endpoint receives, when, and what
 * happens to the Subscription when the endpoint fails.
 */
import assert from 'node:assert/strict';
import type { List, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../src/conformance/canonical';
import { loadMtmRecords, mtmRecords } from '../fixtures/search/mtm-records';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { Receiver } from './receiver';
import { DISCHARGE_LIST, dischargeList, personalList, post, put, subscription, subscriptionSettings, subscriptionWhen } from './subscription-fixture';

const CMR_COMPLETED = `Task?code=${encodeURIComponent(`${CODE_SYSTEM.reviewType}|cmr`)}&status=completed`;
const task = (id: string) => mtmRecords().find((r) => r.resourceType === 'Task' && r.id === id) as Task;

describe('R4 rest-hook Subscriptions', function () {
  this.timeout(30_000);
  let t: TestServer;
  let receiver: Receiver;
  before(async () => {
    t = await startTestServer({ subscriptions: subscriptionSettings() });
    await loadMtmRecords(t);
  });
  after(async () => t.close());
  beforeEach(async () => (receiver = await Receiver.start()));
  afterEach(async () => receiver.close());

  async function subscribe(criteria: string, channel = {}, path = '/hook'): Promise<string> {
    const created = await post(t, 'Subscription', subscription(criteria, receiver.url(path), channel));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  it('stores a requested Subscription as active, as the server accepts it', async () => {
    const created = await post(t, 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, receiver.url()));
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'active');
    assert.equal((await t.api().get(`${t.base}/Subscription/${created.body.id}`)).body.status, 'active');
  });

  it('sends an empty POST with the channel headers once a matching transaction has committed', async () => {
    await subscribe(`List?code=${DISCHARGE_LIST}`, { header: ['Authorization: Bearer ehr-secret-123', 'X-Tenant: plan-7'] }, '/ehr/notify');
    const answer = await post(t, '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0d6a3a56-6d0e-4d6e-9a55-1b1f0c9f0a01', resource: dischargeList('walter-nguyen'), request: { method: 'POST', url: 'List' } }],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const notification = await receiver.next();
    assert.equal(notification.method, 'POST');
    assert.equal(notification.path, '/ehr/notify');
    assert.equal(notification.body, '');
    assert.equal(notification.headers.authorization, 'Bearer ehr-secret-123');
    assert.equal(notification.headers['x-tenant'], 'plan-7');
    const [stored] = /List\/[^/]+/.exec(answer.body.entry[0].response.location as string) ?? [];
    assert.equal((await t.api().get(`${t.base}/${stored}`)).status, 200);
  });

  it('PUTs the full resource to {endpoint}/{type}/{id} for a completed CMR, and nothing for Tasks that do not match', async () => {
    await subscribe(CMR_COMPLETED, { payload: 'application/fhir+json' }, '/fhir');
    assert.equal((await put(t, 'Task/task-nguyen-pdr', task('task-nguyen-pdr'))).status, 200); // in progress, not a CMR
    assert.equal((await put(t, 'Task/task-rosa-tmr', task('task-rosa-tmr'))).status, 200); // a TMR, requested
    const written = await put(t, 'Task/task-holloway-cmr', task('task-holloway-cmr'));
    assert.equal(written.status, 200);
    const notification = await receiver.next();
    assert.equal(notification.method, 'PUT');
    assert.equal(notification.path, '/fhir/Task/task-holloway-cmr');
    assert.match(String(notification.headers['content-type']), /^application\/fhir\+json/);
    assert.deepEqual(JSON.parse(notification.body), written.body);
  });

  it('notifies nothing for a transaction that rolls back, and the next committed write after it', async () => {
    await subscribe(`List?code=${DISCHARGE_LIST}`, { payload: 'application/fhir+json' });
    const failed = await post(t, '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0d6a3a56-6d0e-4d6e-9a55-1b1f0c9f0a02', resource: dischargeList('rosa-alvarez', 'Rolled back'), request: { method: 'POST', url: 'List' } },
        // the stale If-Match fails the transaction after the List was written in it
        { resource: mtmRecords().find((r) => r.id === 'walter-nguyen'), request: { method: 'PUT', url: 'Patient/walter-nguyen', ifMatch: 'W/"999"' } },
      ],
    });
    assert.equal(failed.status, 412, JSON.stringify(failed.body));
    assert.equal((await post(t, 'List', personalList('rosa-alvarez'))).status, 201); // not a discharge list
    assert.equal((await post(t, 'List', dischargeList('rosa-alvarez', 'Committed'))).status, 201);
    const notification = await receiver.next();
    assert.equal((JSON.parse(notification.body) as List).title, 'Committed');
  });

  it('retries a failed notification until the endpoint takes it, keeping the order of the writes, and the Subscription stays active', async () => {
    receiver.answers = [500, 503, 200];
    const id = await subscribe(`List?code=${DISCHARGE_LIST}`, { payload: 'application/fhir+json' });
    const first = await post(t, 'List', dischargeList('margaret-holloway', 'Retried'));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await post(t, 'List', dischargeList('margaret-holloway', 'Written after'));
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const seen: string[] = [];
    for (let n = 0; n < 4; n++) seen.push(JSON.parse((await receiver.next()).body).title);
    assert.deepEqual(seen, ['Retried', 'Retried', 'Retried', 'Written after']);
    assert.equal((await t.api().get(`${t.base}/Subscription/${id}`)).body.status, 'active');
  });

  it('sets the Subscription to error with the reason after repeated failures, and resumes once the client sets it active', async () => {
    receiver.otherwise = 503;
    const id = await subscribe(`List?code=${DISCHARGE_LIST}`, { payload: 'application/fhir+json' });
    await post(t, 'List', dischargeList('margaret-holloway', 'Never taken'));
    const failed = await subscriptionWhen(t, id, (s) => s.status !== 'active');
    assert.equal(failed.status, 'error');
    assert.equal(failed.error, 'the endpoint answered HTTP 503 (3 attempts)');
    assert.equal(receiver.received, 3);

    receiver.otherwise = 200;
    const reactivated = await put(t, `Subscription/${id}`, { ...failed, status: 'active' });
    assert.equal(reactivated.status, 200);
    for (let i = 0; i < 3; i++) await receiver.next(); // the three failed attempts
    await post(t, 'List', dischargeList('margaret-holloway', 'After the outage'));
    assert.equal(JSON.parse((await receiver.next()).body).title, 'After the outage');
  });

  it('refuses (422) a criteria it cannot evaluate, another channel type, a payload other than FHIR JSON and a header that is not one line', async () => {
    const cases = [
      subscription('Task?no-such-parameter=1', receiver.url()),
      subscription('NotAType?status=completed', receiver.url()),
      subscription(`List?code=${DISCHARGE_LIST}&_count=5`, receiver.url()),
      subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { type: 'websocket' }),
      subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { payload: 'application/fhir+xml' }),
      subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { header: ['X-Injected: a\r\nHost: elsewhere'] }),
      subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { header: ['Host: elsewhere'] }),
    ];
    for (const s of cases) {
      const answer = await post(t, 'Subscription', s);
      assert.equal(answer.status, 422, `${s.criteria} ${JSON.stringify(s.channel)}: ${answer.status}`);
      assert.equal(answer.body.resourceType, 'OperationOutcome');
    }
  });

  it('does not let an anonymous write claim to come from a registered client', async () => {
    const created = await post(t, 'Organization', { resourceType: 'Organization', name: 'Claims', meta: { source: 'urn:mtm-fhir:client:payer-b' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.meta.source, undefined);
  });
});

describe('Pending notifications across a restart', function () {
  this.timeout(60_000);

  it('sends after the restart a notification the server stopped before it was answered', async () => {
    const receiver = await Receiver.start();
    const first = await startTestServer({ subscriptions: subscriptionSettings() });
    const dataDir = first.dataDir;
    try {
      await loadMtmRecords(first);
      receiver.answers = ['hang'];
      const created = await post(first, 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { payload: 'application/fhir+json' }));
      assert.equal(created.status, 201);
      const list = await post(first, 'List', dischargeList('walter-nguyen', 'Across a restart'));
      assert.equal(JSON.parse((await receiver.next()).body).id, list.body.id); // in flight, never answered
      await first.server.close();

      const second = await startTestServer({ dataDir, subscriptions: subscriptionSettings() });
      try {
        assert.equal(JSON.parse((await receiver.next()).body).id, list.body.id);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
    }
  });
});
