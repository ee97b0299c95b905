import assert from 'node:assert/strict';
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { readExample } from '../examples/example-files';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const part = (p: ParametersParameter, name: string) => (p.part ?? []).filter((x) => x.name === name);

/** List/{id}/$reconcile?against=List/{id}: what changed between two medication lists, writing nothing. */
describe('List/$reconcile compares a discharge list with the current one', () => {
  let t: TestServer;
  let currentList: string;
  let dischargeList: string;

  /** Stores an example transaction and returns the id of the List it created. */
  async function store(file: string): Promise<string> {
    const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(readExample<Bundle>(file)));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 1000));
    const location = (res.body as Bundle).entry?.map((e) => e.response?.location ?? '').find((l) => /\/List\//.test(l));
    const id = /List\/([^/]+)\//.exec(location ?? '')?.[1];
    assert.ok(id, 'the transaction stored a List');
    return id;
  }

  before(async () => {
    t = await startTestServer();
    currentList = await store('discharge/current-medication-list.bundle.json');
    dischargeList = await store('discharge/discharge-transaction.bundle.json');
  });
  after(async () => t.close());

  const outcomes = (body: Parameters) => {
    const items = (body.parameter ?? []).filter((p) => p.name === 'item');
    return new Map(items.map((item) => [part(item, 'medication')[0].valueString, part(item, 'outcome')[0].valueCoding?.code]));
  };
  const count = async (type: string) => (await t.api().get(`${t.base}/${type}?_summary=count`)).body.total as number;

  it('reports one changed dose, one ceased and two new medicines, the rest unchanged, and stores nothing', async () => {
    const before = { lists: await count('List'), statements: await count('MedicationStatement'), tasks: await count('Task') };
    const res = await t.api().get(`${t.base}/List/${dischargeList}/$reconcile?against=List/${currentList}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const found = [...outcomes(res.body as Parameters).values()];
    const n = (code: string) => found.filter((c) => c === code).length;
    assert.deepEqual({ changed: n('02'), ceased: n('05'), new: n('04') }, { changed: 1, ceased: 1, new: 2 }, JSON.stringify(found));
    assert.equal(n('01'), found.length - 4, 'the rest unchanged');
    const summary = (res.body as Parameters).parameter?.find((p) => p.name === 'outcome')?.resource;
    assert.match(JSON.stringify(summary), /1 changed, 2 new, 1 ceased/);
    assert.deepEqual({ lists: await count('List'), statements: await count('MedicationStatement'), tasks: await count('Task') }, before);
    assert.equal((await t.api().get(`${t.base}/List/${currentList}/_history`)).body.total, 1, 'the current list keeps its one version');
  });

  it('takes "against" as a Reference in a POSTed Parameters body too, with the same answer', async () => {
    const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'against', valueReference: { reference: `List/${currentList}` } }] };
    const posted = await t.api().post(`${t.base}/List/${dischargeList}/$reconcile`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    const got = await t.api().get(`${t.base}/List/${dischargeList}/$reconcile?against=List/${currentList}`);
    assert.deepEqual(outcomes(posted.body), outcomes(got.body));
  });

  it('compared with itself, every medicine is unchanged', async () => {
    const res = await t.api().get(`${t.base}/List/${currentList}/$reconcile?against=List/${currentList}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const found = [...outcomes(res.body as Parameters).values()];
    assert.ok(found.length >= 8);
    assert.deepEqual(new Set(found), new Set(['01']));
  });

  it('answers 400 without a List to compare against, and 404 for a List it does not hold', async () => {
    for (const query of ['', '?against=Patient/x', '?against=nonsense']) {
      const res = await t.api().get(`${t.base}/List/${dischargeList}/$reconcile${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
    const missing = await t.api().get(`${t.base}/List/${dischargeList}/$reconcile?against=List/not-here`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.resourceType, 'OperationOutcome');
  });
});
