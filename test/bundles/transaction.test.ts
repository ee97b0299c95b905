import assert from 'node:assert/strict';
import type { Bundle, BundleEntry, Practitioner } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

function transaction(entries: BundleEntry[], type: 'transaction' | 'batch' = 'transaction'): string {
  return JSON.stringify({ resourceType: 'Bundle', type, entry: entries } satisfies Bundle);
}

const practitioner = (family: string): Practitioner => ({ resourceType: 'Practitioner', name: [{ family }] });

describe('Transaction Bundles', () => {
  let t: TestServer;
  beforeEach(async () => (t = await startTestServer()));
  afterEach(async () => t.close());

  const post = (body: string, headers: Record<string, string> = {}) => t.api().post('/fhir').set('Content-Type', FHIR_JSON).set(headers).send(body);
  // Versions stored, from type history (which gives no total: counting would cost as much as reading).
  const count = async (type: string) => ((await t.api().get(`/fhir/${type}/_history?_count=1000`)).body.entry ?? []).length as number;

  it('persists nothing when the 7th entry fails, and names that entry', async () => {
    const existing = await createResource(t, practitioner('Existing'));
    const entries: BundleEntry[] = Array.from({ length: 6 }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
      resource: practitioner(`New ${i}`),
      request: { method: 'POST', url: 'Practitioner' },
    }));
    entries.push({ resource: { ...existing, name: [{ family: 'Stale' }] }, request: { method: 'PUT', url: `Practitioner/${existing.id}`, ifMatch: 'W/"9"' } });
    entries.push({ resource: practitioner('After'), request: { method: 'POST', url: 'Practitioner' } });
    const res = await post(transaction(entries));
    assert.equal(res.status, 412);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics, /Bundle\.entry\[6\]/);
    assert.deepEqual(res.body.issue[0].expression, ['Bundle.entry[6]']);
    assert.equal(await count('Practitioner'), 1, 'only the practitioner created before the transaction exists');
    assert.equal((await t.api().get(`/fhir/Practitioner/${existing.id}`)).body.name[0].family, 'Existing');
  });

  it('rewrites urn:uuid references everywhere, nested ones included, to the assigned ids', async () => {
    const patientUrl = 'urn:uuid:6c3b0c9a-2a9e-4a57-9d4c-1f1e0c1e9a01';
    const pharmacistUrl = 'urn:uuid:6c3b0c9a-2a9e-4a57-9d4c-1f1e0c1e9a02';
    const res = await post(
      transaction([
        {
          resource: {
            resourceType: 'CarePlan',
            status: 'active',
            intent: 'plan',
            subject: { reference: patientUrl },
            author: { reference: pharmacistUrl },
            activity: [{ detail: { status: 'scheduled', performer: [{ reference: pharmacistUrl }] } }],
          },
          request: { method: 'POST', url: 'CarePlan' },
        },
        { fullUrl: patientUrl, resource: { resourceType: 'Patient', name: [{ family: 'Okonkwo' }] }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: pharmacistUrl, resource: { ...practitioner('Pharmacist'), id: 'rph-1' }, request: { method: 'PUT', url: 'Practitioner/rph-1' } },
      ]),
    );
    assert.equal(res.status, 200);
    const bundle = res.body as Bundle;
    assert.equal(bundle.type, 'transaction-response');
    assert.deepEqual(bundle.entry?.map((e) => e.response?.status), ['201 Created', '201 Created', '201 Created']);
    const patientId = bundle.entry?.[1].resource?.id;
    const carePlan = (await t.api().get(`/fhir/CarePlan/${bundle.entry?.[0].resource?.id}`)).body;
    assert.equal(carePlan.subject.reference, `Patient/${patientId}`);
    assert.equal(carePlan.author.reference, 'Practitioner/rph-1');
    assert.equal(carePlan.activity[0].detail.performer[0].reference, 'Practitioner/rph-1');
    for (const entry of bundle.entry ?? []) {
      assert.ok(entry.response?.location?.includes('/_history/1'));
      assert.equal(entry.response?.etag, 'W/"1"');
      assert.ok(entry.response?.lastModified);
    }
  });

  it('processes DELETE, then POST, then PUT and PATCH, then GET, whatever the entry order', async () => {
    const doomed = await createResource(t, practitioner('Doomed'));
    const patched = await createResource(t, practitioner('Patch me'));
    const patch = Buffer.from(JSON.stringify([{ op: 'add', path: '/gender', value: 'female' }])).toString('base64');
    const res = await post(
      transaction([
        { request: { method: 'GET', url: `Practitioner/${patched.id}` } },
        { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patch }, request: { method: 'PATCH', url: `Practitioner/${patched.id}` } },
        { resource: practitioner('Created'), request: { method: 'POST', url: 'Practitioner' } },
        { request: { method: 'DELETE', url: `Practitioner/${doomed.id}` } },
      ]),
    );
    assert.equal(res.status, 200);
    const entries = (res.body as Bundle).entry ?? [];
    assert.equal(entries[0].resource?.meta?.versionId, '2', 'GET runs after PATCH and sees its result');
    assert.equal((entries[0].resource as { gender?: string }).gender, 'female');
    assert.equal(entries[1].response?.status, '200 OK');
    assert.equal(entries[2].response?.status, '201 Created');
    assert.equal(entries[3].response?.status, '200 OK');
    assert.equal((await t.api().get(`/fhir/Practitioner/${doomed.id}`)).status, 410);
  });

  it('refuses two entries that write the same resource', async () => {
    const res = await post(
      transaction([
        { resource: { ...practitioner('A'), id: 'same' }, request: { method: 'PUT', url: 'Practitioner/same' } },
        { request: { method: 'DELETE', url: 'Practitioner/same' } },
      ]),
    );
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /Practitioner\/same is also the target of entry 0/);
    assert.equal((await t.api().get('/fhir/Practitioner/same')).status, 404);
  });

  it('ingests a 1,000-entry transaction', async () => {
    const entries: BundleEntry[] = Array.from({ length: 1000 }, (_, i) => ({
      fullUrl: `urn:uuid:${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
      resource: practitioner(`Bulk ${i}`),
      request: { method: 'POST', url: 'Practitioner' },
    }));
    const res = await post(transaction(entries));
    assert.equal(res.status, 200);
    assert.equal((res.body as Bundle).entry?.length, 1000);
    assert.equal(await count('Practitioner'), 1000);
  });

  it('honours Prefer: return=minimal for each entry', async () => {
    const res = await post(transaction([{ resource: practitioner('Min'), request: { method: 'POST', url: 'Practitioner' } }]), { Prefer: 'return=minimal' });
    assert.equal(res.status, 200);
    const entry = (res.body as Bundle).entry?.[0];
    assert.equal(entry?.resource, undefined);
    assert.equal(entry?.response?.status, '201 Created');
  });

  it('answers 400 for a Bundle that is neither batch nor transaction, and 413 over the entry limit', async () => {
    const wrong = await post(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }));
    assert.equal(wrong.status, 400);
    const small = await startTestServer({ maxBundleEntries: 2 });
    try {
      const entries = Array.from({ length: 3 }, () => ({ resource: practitioner('x'), request: { method: 'POST' as const, url: 'Practitioner' } }));
      const res = await small.api().post('/fhir').set('Content-Type', FHIR_JSON).send(transaction(entries));
      assert.equal(res.status, 413);
    } finally {
      await small.close();
    }
  });
});

describe('Batch Bundles', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it('processes every entry on its own: one failure does not undo the others', async () => {
    const res = await t
      .api()
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(
        transaction(
          [
            { resource: practitioner('First'), request: { method: 'POST', url: 'Practitioner' } },
            { request: { method: 'GET', url: 'Practitioner/missing' } },
            { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Practitioner' } },
            { resource: practitioner('Last'), request: { method: 'POST', url: 'Practitioner' } },
          ],
          'batch',
        ),
      );
    assert.equal(res.status, 200);
    const bundle = res.body as Bundle;
    assert.equal(bundle.type, 'batch-response');
    assert.deepEqual(bundle.entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '404', '400', '201']);
    assert.equal(bundle.entry?.[1].response?.outcome?.resourceType, 'OperationOutcome');
    const history = await t.api().get('/fhir/Practitioner/_history?_count=1000');
    assert.equal(history.body.entry.length, 2);
  });
});
