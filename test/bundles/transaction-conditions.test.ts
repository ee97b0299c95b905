/**
 * Conditional entries of transaction Bundles under concurrency. The embedded engine runs one
 * transaction at a time, so there these pass by construction; on MongoDB (MONGODB_URI=… npm test)
 * transactions overlap, and only the condition lock keeps the second Bundle from creating again.
 */
import assert from 'node:assert/strict';
import type { Bundle } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const IDENTIFIER = 'http://hospital.example.org/mrn|MRN-5531';

describe('Conditional entries of concurrent transaction Bundles', function () {
  this.timeout(60_000);
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  const send = (bundle: Bundle) => t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const count = async (query: string) => (await t.api().get(`/fhir/Patient?${query}&_summary=count`)).body.total as number;

  it('10 concurrent Bundles with the same conditional update and no match create exactly one Patient', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-5531' }], name: [{ family: 'Haddad' }] },
          request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(IDENTIFIER)}` },
        },
      ],
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => send(bundle)));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await count(`identifier=${encodeURIComponent(IDENTIFIER)}`), 1);
  });

  it('10 concurrent Bundles with the same ifNoneExist create exactly one Patient', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-7710' }] },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://hospital.example.org/mrn|MRN-7710' },
        },
      ],
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => send(bundle)));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await count('identifier=http://hospital.example.org/mrn|MRN-7710'), 1);
  });
});

describe('The size of one transaction', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer({ maxTransactionEntries: 3 })));
  after(async () => t.close());

  const patients = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ resource: { resourceType: 'Patient', name: [{ family: `Size${i}` }] }, request: { method: 'POST', url: 'Patient' } }));

  it('answers 413 to a transaction over MAX_TRANSACTION_ENTRIES, says to use a batch, and stores nothing', async () => {
    const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: patients(4) }));
    assert.equal(res.status, 413);
    assert.match(JSON.stringify(res.body), /batch/);
    assert.equal((await t.api().get('/fhir/Patient?_summary=count')).body.total, 0);
  });

  it('takes the same entries as a batch', async () => {
    const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: patients(4) }));
    assert.equal(res.status, 200);
    assert.equal((await t.api().get('/fhir/Patient?_summary=count')).body.total, 4);
  });
});
