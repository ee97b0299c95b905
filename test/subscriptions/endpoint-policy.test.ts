/**
 * No server-side request forgery: without SUBSCRIPTION_ALLOW_PRIVATE the server calls only https
 * endpoints on public addresses, judged on the literal address when the URL has one and on every
 * address the host resolves to when it delivers.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import { isPublicAddress } from '../../src/subscriptions/endpoint-policy';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { DISCHARGE_LIST, dischargeList, post, subscription, subscriptionSettings, subscriptionWhen } from './subscription-fixture';

describe('Subscription endpoints: https to public addresses only, unless configured', function () {
  this.timeout(30_000);
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ subscriptions: subscriptionSettings({ allowPrivate: false }) });
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  it('refuses (422) http, loopback, private, link-local and localhost endpoints, however the address is written', async () => {
    for (const endpoint of [
      'http://ehr.example.org/hook',
      'https://127.0.0.1/hook',
      'https://127.1/hook', // the URL parser's 127.0.0.1
      'https://2130706433/hook', // 127.0.0.1 as one number
      'https://[::1]/hook',
      'https://[::ffff:10.0.0.7]/hook',
      'https://10.1.2.3/hook',
      'https://192.168.1.20/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://localhost/hook',
      'https://user:secret@ehr.example.org/hook',
      'not a url',
    ]) {
      const answer = await post(t, 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, endpoint));
      assert.equal(answer.status, 422, `${endpoint}: ${answer.status}`);
      assert.equal(answer.body.issue[0].expression[0], 'Subscription.channel.endpoint');
    }
  });

  it('sets the Subscription to error when its host resolves to a private address at delivery', async function () {
    const host = os.hostname();
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (addresses.length === 0 || addresses.every((a) => isPublicAddress(a.address))) this.skip(); // needs a host name resolving to this machine
    const created = await post(t, 'Subscription', subscription(`List?code=${DISCHARGE_LIST}`, `https://${host}/hook`));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await post(t, 'List', dischargeList('walter-nguyen'))).status, 201);
    const failed = await subscriptionWhen(t, created.body.id, (s) => s.status !== 'active');
    assert.equal(failed.status, 'error');
    assert.match(failed.error ?? '', /resolves to .*, which is not a public address/);
  });

  it('judges addresses by the special-purpose registries, IPv4 written as IPv6 included', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:192.168.1.1']) {
      assert.equal(isPublicAddress(address), false, address);
    }
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isPublicAddress(address), true, address);
    }
  });
});
