import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { loadExampleCmr } from '../mtm/summary-fixture';

const errors = (body: unknown): OperationOutcomeIssue[] => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
const found = (body: unknown): string[] => errors(body).map((i) => `${i.expression?.[0]} ${i.diagnostics}`);
/** Entries as a client might send them, valid or not (BundleEntry would not let the invalid ones be written). */
type Entry = { fullUrl?: string; resource?: object; search?: object; response?: object };
const BASE = 'https://ehr.example.org/fhir';
const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Okafor' }] };
const composition = (subject: string) => ({
  resourceType: 'Composition',
  id: 'c1',
  status: 'final',
  type: { coding: [{ system: 'http://loinc.org', code: '80797-4' }] },
  subject: { reference: subject },
  date: '2026-01-05',
  author: [{ reference: `${BASE}/Patient/p1` }],
  title: 'Medication Action Plan',
});
const document = (entry: Entry[]) => ({
  resourceType: 'Bundle',
  type: 'document',
  identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c3f4d8e-1a2b-4c5d-8e9f-a0b1c2d3e4f5' },
  timestamp: '2026-01-05T10:00:00Z',
  entry,
});

describe('Bundle rules: fullUrl, search mode, self-contained documents, and the bdl-* invariants', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const validate = (bundle: object) => t.api().post(`${t.base}/Bundle/$validate`).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const collection = (entry: Entry[]) => ({ resourceType: 'Bundle', type: 'collection', entry });

  describe('fullUrl', () => {
    it('a relative fullUrl is refused, on POST /Bundle too (422, nothing stored)', async () => {
      const res = await t.api().post(`${t.base}/Bundle`).set('Content-Type', FHIR_JSON).send(JSON.stringify(collection([{ fullUrl: 'Patient/p1', resource: patient }])));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]), ['Bundle.entry[0].fullUrl']);
      assert.match(errors(res.body)[0].diagnostics ?? '', /absolute/);
      const stored = await t.api().get(`${t.base}/Bundle`);
      assert.equal(stored.body.entry?.length ?? 0, 0);
    });

    it('a fullUrl that disagrees with the resource id is refused; one that agrees passes', async () => {
      const bad = await validate(collection([{ fullUrl: `${BASE}/Patient/p2`, resource: patient }]));
      assert.deepEqual(found(bad.body).map((f) => f.split(' ')[0]), ['Bundle.entry[0].fullUrl']);
      assert.match(found(bad.body)[0], /Patient\/p1/);
      const good = await validate(collection([{ fullUrl: `${BASE}/Patient/p1`, resource: patient }]));
      assert.deepEqual(errors(good.body), []);
    });

    it('urn:uuid and urn:oid fullUrls need not agree with the id, but must be well-formed', async () => {
      const good = await validate(
        collection([
          { fullUrl: 'urn:uuid:7b1d0f6e-8a4c-4e2b-9d3f-1a2b3c4d5e6f', resource: patient },
          { fullUrl: 'urn:oid:2.16.840.1.113883.4.642.99', resource: { ...patient, id: 'p3' } },
        ]),
      );
      assert.deepEqual(errors(good.body), []);
      const bad = await validate(collection([{ fullUrl: 'urn:uuid:not-a-uuid', resource: patient }, { fullUrl: 'urn:oid:3.1', resource: { ...patient, id: 'p3' } }]));
      assert.deepEqual(errors(bad.body).map((i) => i.expression?.[0]), ['Bundle.entry[0].fullUrl', 'Bundle.entry[1].fullUrl']);
    });
  });

  it('every entry of a searchset that holds a resource carries search.mode', async () => {
    const searchset = (search?: object) => ({ resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ fullUrl: `${BASE}/Patient/p1`, resource: patient, ...(search ? { search } : {}) }] });
    const bad = await validate(searchset());
    assert.deepEqual(errors(bad.body).map((i) => i.expression?.[0]), ['Bundle.entry[0]']);
    assert.match(errors(bad.body)[0].diagnostics ?? '', /search\.mode/);
    assert.deepEqual(errors((await validate(searchset({ mode: 'match' }))).body), []);
  });

  it("the server's own search results are valid searchsets", async () => {
    await t.api().post(`${t.base}/Patient`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Searchset' }] }));
    const search = await t.api().get(`${t.base}/Patient?family=Searchset`);
    assert.equal(search.body.entry.length, 1);
    assert.deepEqual(errors((await validate(search.body)).body), []);
  });

  describe('a document carries every resource it references', () => {
    it('a reference to a resource outside the document is refused at the entry that holds it', async () => {
      const res = await validate(document([{ fullUrl: `${BASE}/Composition/c1`, resource: composition('Patient/p9') }, { fullUrl: `${BASE}/Patient/p1`, resource: patient }]));
      assert.deepEqual(found(res.body).map((f) => f.split(' ')[0]), ['Bundle.entry[0].resource']);
      assert.match(found(res.body)[0], /Patient\/p9/);
    });

    it('relative references resolve against the entry base, absolute ones and urn:uuid ones by fullUrl', async () => {
      const relative = await validate(document([{ fullUrl: `${BASE}/Composition/c1`, resource: composition('Patient/p1') }, { fullUrl: `${BASE}/Patient/p1`, resource: patient }]));
      assert.deepEqual(errors(relative.body), []);
      const uuid = 'urn:uuid:3e9a1c2b-4d5f-4a6b-8c7d-9e0f1a2b3c4d';
      const byUuid = await validate(
        document([
          { fullUrl: 'urn:uuid:5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', resource: { ...composition(uuid), author: [{ reference: uuid }] } },
          { fullUrl: uuid, resource: patient },
        ]),
      );
      assert.deepEqual(errors(byUuid.body), []);
    });

    it("the server's own document (CarePlan/$document, the Medication Action Plan) is self-contained and valid", async () => {
      const cmr = await loadExampleCmr(t);
      const doc = await t.api().get(`${t.base}/CarePlan/${cmr.carePlan}/$document`);
      assert.equal(doc.status, 200);
      assert.ok(((doc.body as Bundle).entry ?? []).length > 1);
      assert.deepEqual(errors((await validate(doc.body)).body), []);
    });
  });

  describe('the bdl-* invariants run on a Bundle, each failure reported', () => {
    const P = { fullUrl: `${BASE}/Patient/p1`, resource: patient };
    const cases: [string, object][] = [
      ['bdl-1', { resourceType: 'Bundle', type: 'collection', total: 1, entry: [P] }],
      ['bdl-2', { resourceType: 'Bundle', type: 'collection', entry: [{ ...P, search: { mode: 'match' } }] }],
      ['bdl-3', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:6d0e2a9c-3b51-4f6e-9a1d-1c2b3d4e5f60', resource: { resourceType: 'Patient' } }] }],
      ['bdl-4', { resourceType: 'Bundle', type: 'collection', entry: [{ ...P, response: { status: '200' } }] }],
      ['bdl-5', { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: `${BASE}/Patient/p1` }] }],
      ['bdl-7', { resourceType: 'Bundle', type: 'collection', entry: [P, P] }],
      ['bdl-8', { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: `${BASE}/Patient/p1/_history/1`, resource: patient }] }],
      ['bdl-9', { ...document([{ fullUrl: `${BASE}/Composition/c1`, resource: composition('Patient/p1') }, P]), identifier: undefined }],
      ['bdl-10', { ...document([{ fullUrl: `${BASE}/Composition/c1`, resource: composition('Patient/p1') }, P]), timestamp: undefined }],
      ['bdl-11', document([P])],
      ['bdl-12', { resourceType: 'Bundle', type: 'message', entry: [P] }],
    ];
    for (const [key, bundle] of cases) {
      it(`${key}`, async () => {
        const res = await validate(bundle);
        assert.ok(errors(res.body).some((i) => (i.diagnostics ?? '').includes(`${key} `)), JSON.stringify(res.body));
      });
    }

    it('a Bundle breaking three of them gets all three', async () => {
      const res = await validate({ resourceType: 'Bundle', type: 'collection', total: 1, entry: [{ fullUrl: `${BASE}/Patient/p1/_history/1`, resource: patient, search: { mode: 'match' } }] });
      const keys = errors(res.body).map((i) => /Constraint (\S+) not met/.exec(i.diagnostics ?? '')?.[1]).filter(Boolean);
      assert.deepEqual(keys.sort(), ['bdl-1', 'bdl-2', 'bdl-8']);
    });
  });
});
