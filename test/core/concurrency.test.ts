import assert from 'node:assert/strict';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

describe('Concurrent writers', () => {
  let t: TestServer;
  // Storage yields between operations as MongoDB does, so the requests really overlap; without the
  // embedded engine's write lock these tests fail.
  before(async () => (t = await startTestServer({ simulatedRoundTrips: true })));
  after(async () => t.close());

  it('lets exactly one of 50 concurrent If-Match updates of the same version win; the rest get 412', async () => {
    const created = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Race' }] });
    const attempts = Array.from({ length: 50 }, (_, i) =>
      t
        .api()
        .put(`/fhir/Practitioner/${created.id}`)
        .set('Content-Type', FHIR_JSON)
        .set('If-Match', 'W/"1"')
        .send(JSON.stringify({ ...created, name: [{ family: `Writer ${i}` }] })),
    );
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1);
    assert.equal(statuses.filter((s) => s === 412).length, 49);
    const final = await t.api().get(`/fhir/Practitioner/${created.id}`);
    assert.equal(final.body.meta.versionId, '2');
  });

  it('applies every one of 20 concurrent unconditional updates as its own version', async () => {
    const created = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Queue' }] });
    const updates = Array.from({ length: 20 }, (_, i) =>
      t.api().put(`/fhir/Practitioner/${created.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...created, name: [{ family: `U${i}` }] })),
    );
    const statuses = (await Promise.all(updates)).map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [200]);
    const history = await t.api().get(`/fhir/Practitioner/${created.id}/_history?_count=100`);
    assert.equal(history.body.total, 21);
    const versions = history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => Number(e.resource.meta.versionId));
    assert.deepEqual(versions, Array.from({ length: 21 }, (_, i) => 21 - i));
  });
});
