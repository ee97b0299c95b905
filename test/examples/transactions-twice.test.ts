import assert from 'node:assert/strict';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { exampleFiles, readExample } from './example-files';

/** The example transactions are conditional creates: a hospital that sends one again must not duplicate a record. */
describe('examples/: each transaction Bundle sent twice', () => {
  let t: TestServer;
  const transactions = exampleFiles().filter((file) => readExample<Bundle>(file).resourceType === 'Bundle' && readExample<Bundle>(file).type === 'transaction');

  /** How many resources of each type the server holds. */
  async function counts(types: string[]): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const type of types) {
      const res = await t.api().get(`${t.base}/${type}?_summary=count`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      result[type] = res.body.total;
    }
    return result;
  }

  const send = (bundle: Bundle) => t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const statuses = (body: Bundle) => (body.entry ?? []).map((e: BundleEntry) => e.response?.status.split(' ')[0]);

  it('there are example transactions to send', () => assert.ok(transactions.length >= 3, transactions.join(', ')));

  describe('on a fresh server each (the examples share their patient)', () => {
    beforeEach(async () => (t = await startTestServer()));
    afterEach(async () => t.close());

    for (const file of transactions) {
      it(`${file}: the first time creates every entry, the second creates nothing and answers each with the existing resource`, async () => {
        const bundle = readExample<Bundle>(file);
        const types = [...new Set((bundle.entry ?? []).map((e) => e.resource?.resourceType as string))];
        const before = await counts(types);

        const first = await send(bundle);
        assert.equal(first.status, 200, JSON.stringify(first.body).slice(0, 1000));
        assert.deepEqual(new Set(statuses(first.body)), new Set(['201']), 'every entry is new the first time');
        const afterFirst = await counts(types);
        for (const type of types) {
          const entries = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type).length;
          assert.ok(afterFirst[type] >= before[type] + entries, `${type}: ${before[type]} + ${entries} expected, ${afterFirst[type]} found`);
        }

        const second = await send(bundle);
        assert.equal(second.status, 200, JSON.stringify(second.body).slice(0, 1000));
        assert.deepEqual(new Set(statuses(second.body)), new Set(['200']), 'every entry already exists the second time');
        const ids = (body: Bundle) => (body.entry ?? []).map((e) => /([A-Za-z]+\/[^/]+)\/_history\//.exec(e.response?.location ?? '')?.[1]);
        assert.deepEqual(ids(second.body), ids(first.body), 'the second answer names the resources the first created');
        assert.deepEqual(await counts(types), afterFirst);
      });
    }
  });
});
