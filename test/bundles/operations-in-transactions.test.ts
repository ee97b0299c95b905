/**
 * An operation posted as an entry of a transaction Bundle is part of that transaction: its writes
 * commit with the Bundle, and disappear with it when a later entry fails.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const examples = path.resolve(__dirname, '../../examples/discharge');
const readBundle = (name: string) => JSON.parse(fs.readFileSync(path.join(examples, name), 'utf8')) as Bundle;

function submitEntry(): BundleEntry {
  return {
    request: { method: 'POST', url: '$smp-submit' },
    resource: { resourceType: 'Parameters', parameter: [{ name: 'smp-medication-data', resource: readBundle('discharge-transaction.bundle.json') }] },
  };
}

describe('Operations inside transaction Bundles', function () {
  this.timeout(60_000);
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
    const current = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(readBundle('current-medication-list.bundle.json')));
    assert.equal(current.status, 200, JSON.stringify(current.body));
  });
  afterEach(async () => t.close());

  const listCount = async () => (await t.api().get('/fhir/List?_summary=count')).body.total as number;
  const post = (bundle: Bundle) => t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));

  it('runs $smp-submit as an entry of the transaction and keeps what it stored', async () => {
    const before = await listCount();
    const res = await post({ resourceType: 'Bundle', type: 'transaction', entry: [submitEntry()] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match((res.body as Bundle).entry?.[0].response?.status ?? '', /^200/);
    assert.ok((await listCount()) > before, 'the submitted discharge list is stored');
  });

  it('keeps nothing of $smp-submit when a later entry of the transaction fails', async () => {
    const before = await listCount();
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [submitEntry(), { request: { method: 'DELETE', url: 'Patient/does-not-exist' } }, { request: { method: 'PUT', url: 'Patient/x' }, resource: { resourceType: 'Patient', id: 'x', gender: 'sometimes' } as never }],
    });
    assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(await listCount(), before, 'no List of the submission survives the failed transaction');
  });
});
