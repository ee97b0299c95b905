/**
 * Subscriptions under the access policy, with SMART Backend Services tokens: creating one needs the
 * Subscription scope, and a notification never carries what the Subscription's client could not read.
 */
import assert from 'node:assert/strict';
import { loadAccessScenario, security } from '../auth/access-fixture';
import { clientFor } from '../auth/http-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { Receiver } from './receiver';
import { DISCHARGE_LIST, dischargeList, subscription, subscriptionSettings } from './subscription-fixture';

describe('Subscriptions and the access policy', function () {
  this.timeout(30_000);
  let t: TestServer;
  let receiver: Receiver;
  before(async () => {
    t = await startTestServer({ subscriptions: subscriptionSettings() });
    await loadAccessScenario(t);
    receiver = await Receiver.start();
  });
  after(async () => {
    await receiver.close();
    await t.close();
  });

  const payerB = () => clientFor(t, security('payer-b-ehr', 'system/*.cruds', 'payer-b'));
  const reader = () => clientFor(t, security('reader', 'system/*.rs'));
  const hospital = () => clientFor(t, security('hospital', 'system/*.cruds'));

  it('refuses (403) a Subscription from a client without the Subscription create scope', async () => {
    const answer = await reader().send('POST', 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, receiver.url()));
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.resourceType, 'OperationOutcome');
  });

  it("notifies a Group-bound client's Subscription of its Group's patients only", async () => {
    const created = await payerB().send('POST', 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, receiver.url(), { payload: 'application/fhir+json' }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'active');
    // Rosa Álvarez is not in payer B's Group; Walter Nguyen is.
    assert.equal((await hospital().send('POST', 'List', dischargeList('rosa-alvarez', 'Outside the Group'))).status, 201);
    assert.equal((await hospital().send('POST', 'List', dischargeList('walter-nguyen', 'In the Group'))).status, 201);
    const notification = JSON.parse((await receiver.next()).body);
    assert.equal(notification.subject.reference, 'Patient/walter-nguyen');
    assert.equal(notification.title, 'In the Group');
  });
});
