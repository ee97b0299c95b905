import assert from 'node:assert/strict';
import request from 'supertest';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

const statement = (code: string, status = 'active'): Resource =>
  ({
    resourceType: 'MedicationStatement',
    status,
    medicationCodeableConcept: { coding: [{ system: RXNORM, code }] },
    subject: { reference: 'Patient/batch-patient' },
    dateAsserted: '2026-12-01',
  }) as Resource;

const post = (resource: Resource): BundleEntry => ({ resource, request: { method: 'POST', url: resource.resourceType } });

describe('Batch Bundles commit their entries together, and each entry still succeeds or fails on its own', () => {
  let t: TestServer;
  beforeEach(async () => (t = await startTestServer()));
  afterEach(async () => t.close());

  const send = (entries: BundleEntry[]) =>
    t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: entries } satisfies Bundle));
  const count = async (type: string) => ((await t.api().get(`/fhir/${type}?_count=1000`)).body as Bundle).entry?.length ?? 0;

  it('stores the entries that pass and none of those that fail, even one refused after its write was made (a rule after the write)', async () => {
    const existing = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Existing' }] });
    const res = await send([
      post(statement('197361')),
      // Refused by validation: the status is not in the required ValueSet.
      post(statement('309362', 'bogus')),
      // Written, then refused by the prescriber-response rule: the recommendation it answers does not exist.
      post({
        resourceType: 'Communication',
        status: 'completed',
        basedOn: [{ reference: 'CommunicationRequest/not-there' }],
        category: [{ coding: [{ system: INTERVENTION, code: 'accepted' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'DISCONT' }] }],
        subject: { reference: 'Patient/batch-patient' },
        sender: { reference: 'Practitioner/prescriber' },
        received: '2026-12-04T09:30:00-06:00',
      } as Resource),
      post({ resourceType: 'Practitioner', name: [{ family: 'New' }] }),
      // A stale version: 412, and the practitioner keeps its name.
      { resource: { ...existing, name: [{ family: 'Stale' }] }, request: { method: 'PUT', url: `Practitioner/${existing.id}`, ifMatch: 'W/"9"' } },
      post(statement('855332')),
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const statuses = (res.body as Bundle).entry?.map((e) => e.response?.status.slice(0, 3));
    assert.deepEqual(statuses, ['201', '422', '422', '201', '412', '201']);
    assert.match(JSON.stringify((res.body as Bundle).entry?.[2].response?.outcome), /CommunicationRequest\/not-there/);
    assert.equal(await count('MedicationStatement'), 2);
    assert.equal(await count('Communication'), 0, 'the refused answer was written by its entry, then taken back');
    assert.equal(await count('Practitioner'), 2);
    assert.equal((await t.api().get(`/fhir/Practitioner/${existing.id}`)).body.name[0].family, 'Existing');
    for (const entry of (res.body as Bundle).entry ?? []) {
      const at = /([A-Za-z]+\/[A-Za-z0-9\-.]+)\/_history/.exec(entry.response?.location ?? '')?.[1];
      if (entry.response?.status.startsWith('201')) assert.equal((await t.api().get(`/fhir/${at}`)).status, 200, entry.response.location);
    }
  });

  it('makes a 20-entry batch durable in one storage transaction, not one per entry (storage_transaction_duration_seconds)', async () => {
    const committed = async (): Promise<number> => {
      const text = (await request(t.server.metricsApp).get('/metrics')).text;
      return Number(/storage_transaction_duration_seconds_count\{outcome="committed"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await committed();
    const res = await send(Array.from({ length: 20 }, (_, i) => post(statement(String(100000 + i)))));
    assert.equal(res.status, 200);
    assert.ok((res.body as Bundle).entry?.every((e) => e.response?.status.startsWith('201')), JSON.stringify(res.body));
    const used = (await committed()) - before;
    assert.ok(used >= 1 && used <= 2, `${used} storage transactions for 20 entries`);
    assert.equal(await count('MedicationStatement'), 20);
  });
});
