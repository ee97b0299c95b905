import assert from 'node:assert/strict';
import type { Bundle, Practitioner } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const pharmacist: Practitioner = { resourceType: 'Practitioner', name: [{ family: 'Kowalski', given: ['Anna'] }] };

describe('History', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it('lists an instance history newest first with request and response on each entry', async () => {
    const created = await createResource(t, pharmacist);
    await t.api().put(`/fhir/Practitioner/${created.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...created, gender: 'female' }));
    const res = await t.api().get(`/fhir/Practitioner/${created.id}/_history`);
    const bundle = res.body as Bundle;
    assert.equal(res.status, 200);
    assert.equal(bundle.type, 'history');
    assert.equal(bundle.total, 2);
    assert.deepEqual(bundle.entry?.map((e) => e.resource?.meta?.versionId), ['2', '1']);
    assert.deepEqual(bundle.entry?.map((e) => e.request?.method), ['PUT', 'POST']);
    assert.equal(bundle.entry?.[1].response?.status, '201 Created');
    assert.equal(bundle.entry?.[0].response?.etag, 'W/"2"');
    assert.ok(bundle.entry?.[0].response?.lastModified);
  });

  it('answers 404 for the history of a resource never seen', async () => {
    const res = await t.api().get('/fhir/Practitioner/nobody/_history');
    assert.equal(res.status, 404);
  });

  it('pages type history with _count and next links, without repeating entries', async () => {
    const isolated = await startTestServer();
    try {
      for (let i = 0; i < 7; i++) await createResource(isolated, { ...pharmacist, name: [{ family: `P${i}` }] });
      const seen: string[] = [];
      let url: string | undefined = '/fhir/Practitioner/_history?_count=3';
      let pages = 0;
      while (url) {
        const res = await isolated.api().get(url);
        const bundle = res.body as Bundle;
        assert.equal(bundle.total, undefined, 'type history gives no total: counting costs as much as reading');
        seen.push(...(bundle.entry ?? []).map((e) => e.resource?.id as string));
        // A write between pages must not shift the pages already planned.
        if (pages === 0) await createResource(isolated, { ...pharmacist, name: [{ family: 'Late' }] });
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        url = next ? new URL(next).pathname + new URL(next).search : undefined;
        pages++;
      }
      assert.equal(pages, 3);
      assert.equal(new Set(seen).size, 7);
    } finally {
      await isolated.close();
    }
  });

  it('filters with _since at type and system level', async () => {
    const isolated = await startTestServer();
    try {
      // The server seeds its conformance resources (profiles, ValueSets...) at start.
      const seeded = (await isolated.api().get('/fhir/_history?_count=1000')).body.entry.length as number;
      await createResource(isolated, pharmacist);
      await new Promise((r) => setTimeout(r, 20));
      const since = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      await createResource(isolated, { resourceType: 'Patient', name: [{ family: 'After' }] });
      const system = await isolated.api().get(`/fhir/_history?_since=${encodeURIComponent(since)}`);
      assert.equal(system.body.entry.length, 1);
      assert.equal(system.body.entry[0].resource.resourceType, 'Patient');
      const all = await isolated.api().get('/fhir/_history?_count=1000');
      assert.equal(all.body.entry.length, seeded + 2);
    } finally {
      await isolated.close();
    }
  });

  it('answers 400 for a malformed _since', async () => {
    const res = await t.api().get('/fhir/_history?_since=yesterday');
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /_since/);
  });
});
