/**
 * On MongoDB, the search shapes of `npm run bench` are served by indexes: no collection scan, and
 * no in-memory sort for the selective ones. The server's own queries are read back from MongoDB's
 * profiler (system.profile), so what is checked is exactly what the server sent. Runs when
 * MONGODB_URI is set (the profiler needs a development replica set); pending otherwise.
 */
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { population } from '../../bench/population/population';
import { TEST_MONGODB_URI } from '../helpers/mongodb';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

interface ProfileEntry {
  ns: string;
  op: string;
  planSummary?: string;
  hasSortStage?: boolean;
  command?: { comment?: string };
}

describe('MongoDB query plans for the bench search shapes', function () {
  this.timeout(300_000);
  let t: TestServer;
  let client: MongoClient;

  before(async function () {
    if (!TEST_MONGODB_URI) this.skip();
    t = await startTestServer();
    const resources = [...population(40).resources()];
    const entry = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }));
    const loaded = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry }));
    assert.equal(loaded.status, 200);
    client = new MongoClient(TEST_MONGODB_URI as string);
    await client.connect();
  });

  after(async () => {
    await client?.close();
    await t?.close();
  });

  async function plansOf(path: string): Promise<ProfileEntry[]> {
    const db = client.db(t.server.services.config.mongodbDatabase);
    await db.command({ profile: 2 });
    await db.collection('system.profile').deleteMany({}).catch(() => undefined);
    const res = await t.api().get(path);
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    await db.command({ profile: 0 });
    const entries = (await db.collection<ProfileEntry>('system.profile').find({ op: { $in: ['query', 'command'] }, planSummary: { $exists: true } }).toArray());
    return entries.filter((e) => !e.ns.endsWith('.conditional_locks') && !e.ns.endsWith('.health_probe'));
  }

  const patient = () => [...population(40).resources()].find((r) => r.resourceType === 'Patient')?.id as string;

  const shapes: Array<[string, () => string]> = [
    ['read', () => `/fhir/Patient/${patient()}`],
    ['search-patient', () => `/fhir/MedicationStatement?patient=Patient/${patient()}`],
    ['search-code', () => '/fhir/MedicationStatement?code=http://www.nlm.nih.gov/research/umls/rxnorm|197361&_count=20'],
    ['search-payer', () => '/fhir/Task?code=http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr&status=completed&period=ge2020-01-01'],
    ['search-ehr', () => `/fhir/CarePlan?patient=Patient/${patient()}&category=http://snomed.info/sct|736378000&status=active&_include=CarePlan:supporting-info`],
    ['sorted worklist', () => '/fhir/Task?status=requested&_sort=-_lastUpdated&_count=10'],
    ['type history', () => '/fhir/MedicationStatement/_history?_count=10'],
  ];

  for (const [name, path] of shapes) {
    it(`${name}: every query is an index scan, without an in-memory sort`, async () => {
      const plans = await plansOf(path());
      assert.ok(plans.length > 0, 'the profiler recorded the queries');
      for (const plan of plans) {
        assert.doesNotMatch(plan.planSummary ?? '', /COLLSCAN/, `${plan.ns}: ${plan.planSummary}`);
        assert.notEqual(plan.hasSortStage, true, `${plan.ns} sorts in memory: ${plan.planSummary}`);
      }
    });
  }
});
