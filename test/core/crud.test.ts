import assert from 'node:assert/strict';
import type { OperationOutcome, Patient, Practitioner } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const patient: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN-1001' }],
  name: [{ family: 'Alvarez', given: ['Rosa'] }],
  birthDate: '1948-03-12',
};

function assertOutcome(body: unknown, pattern?: RegExp): void {
  const outcome = body as OperationOutcome;
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.ok(outcome.issue && outcome.issue.length > 0);
  if (pattern) assert.match(outcome.issue.map((i) => i.diagnostics).join(' '), pattern);
}

describe('Read and write interactions', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  describe('create', () => {
    it('assigns the id, version 1 and lastUpdated, ignoring any the client sent', async () => {
      const res = await t
        .api()
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...patient, id: 'client-chosen', meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z' } }));
      assert.equal(res.status, 201);
      assert.notEqual(res.body.id, 'client-chosen');
      assert.equal(res.body.meta.versionId, '1');
      assert.ok(Date.parse(res.body.meta.lastUpdated) > Date.parse('2020-01-01'));
      assert.equal(res.headers.etag, 'W/"1"');
      assert.ok(res.headers['last-modified']);
      assert.match(res.headers.location, new RegExp(`^http://[^/]+/fhir/Patient/${res.body.id}/_history/1$`));
      assert.match(res.headers['content-type'], /application\/fhir\+json/);
    });

    it('refuses a body whose resourceType does not match the URL with 400', async () => {
      const res = await t.api().post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient));
      assert.equal(res.status, 400);
      assertOutcome(res.body, /Patient.*Observation/);
    });

    it('answers 404 for an unknown resource type', async () => {
      const res = await t.api().post('/fhir/Pharmacist').set('Content-Type', FHIR_JSON).send('{"resourceType":"Pharmacist"}');
      assert.equal(res.status, 404);
      assertOutcome(res.body, /Unknown resource type "Pharmacist"/);
    });

    it('answers 400 when the body is not JSON', async () => {
      const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": "Patient",');
      assert.equal(res.status, 400);
      assertOutcome(res.body, /not valid JSON/);
    });

    it('answers 415 for XML and for a missing or foreign Content-Type', async () => {
      for (const type of ['application/fhir+xml', 'text/plain']) {
        const res = await t.api().post('/fhir/Patient').set('Content-Type', type).send('<Patient/>');
        assert.equal(res.status, 415, type);
        assertOutcome(res.body);
      }
    });

    it('answers 413 for a body over the configured limit', async () => {
      const small = await startTestServer({ maxBodyBytes: 1024 });
      try {
        const big = { ...patient, text: { status: 'generated', div: `<div>${'x'.repeat(4096)}</div>` } };
        const res = await small.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(big));
        assert.equal(res.status, 413);
        assertOutcome(res.body, /exceeds/);
      } finally {
        await small.close();
      }
    });
  });

  describe('read and vread', () => {
    it('reads the current version with ETag and Last-Modified', async () => {
      const created = await createResource(t, patient);
      const res = await t.api().get(`/fhir/Patient/${created.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, created);
      assert.equal(res.headers.etag, 'W/"1"');
    });

    it('answers 404 with an OperationOutcome for an id never seen', async () => {
      const res = await t.api().get('/fhir/Patient/does-not-exist');
      assert.equal(res.status, 404);
      assertOutcome(res.body, /not known/);
    });

    it('reads an earlier version by /_history/{vid}', async () => {
      const created = await createResource(t, patient);
      await t.api().put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...created, gender: 'female' }));
      const v1 = await t.api().get(`/fhir/Patient/${created.id}/_history/1`);
      const v2 = await t.api().get(`/fhir/Patient/${created.id}/_history/2`);
      assert.equal(v1.status, 200);
      assert.equal(v1.body.gender, undefined);
      assert.equal(v2.body.gender, 'female');
      assert.equal(v2.headers.etag, 'W/"2"');
      const v3 = await t.api().get(`/fhir/Patient/${created.id}/_history/3`);
      assert.equal(v3.status, 404);
    });

    it('answers 304 to If-None-Match with the current ETag, and 200 to an older one', async () => {
      const created = await createResource(t, patient);
      const same = await t.api().get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"1"');
      assert.equal(same.status, 304);
      assert.equal(same.text, '');
      const older = await t.api().get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"0"');
      assert.equal(older.status, 200);
    });

    it('answers 304 to If-Modified-Since at or after Last-Modified', async () => {
      const created = await createResource(t, patient);
      const later = new Date(Date.now() + 60_000).toUTCString();
      const earlier = new Date(Date.now() - 3_600_000).toUTCString();
      assert.equal((await t.api().get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', later)).status, 304);
      assert.equal((await t.api().get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', earlier)).status, 200);
    });
  });

  describe('update', () => {
    it('creates a new version and keeps the old one readable', async () => {
      const created = await createResource(t, patient);
      const res = await t
        .api()
        .put(`/fhir/Patient/${created.id}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...created, birthDate: '1948-03-13' }));
      assert.equal(res.status, 200);
      assert.equal(res.body.meta.versionId, '2');
      assert.match(res.headers.location, new RegExp(`^http://[^/]+/fhir/Patient/${created.id}/_history/2$`));
    });

    it('creates the resource with the client-chosen id when none exists (update-as-create)', async () => {
      const res = await t.api().put('/fhir/Patient/mtm-rosa-1').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...patient, id: 'mtm-rosa-1' }));
      assert.equal(res.status, 201);
      assert.equal(res.body.id, 'mtm-rosa-1');
      assert.equal(res.body.meta.versionId, '1');
    });

    it('refuses a body whose id differs from the URL, or has none, with 400', async () => {
      const wrong = await t.api().put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...patient, id: 'b' }));
      assert.equal(wrong.status, 400);
      assertOutcome(wrong.body, /does not match/);
      const missing = await t.api().put('/fhir/Patient/a').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient));
      assert.equal(missing.status, 400);
    });

    it('answers 412 to a stale If-Match and applies a current one', async () => {
      const created = await createResource(t, patient);
      const body = JSON.stringify({ ...created, gender: 'female' });
      const stale = await t.api().put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"7"').send(body);
      assert.equal(stale.status, 412);
      assertOutcome(stale.body, /If-Match/);
      const fresh = await t.api().put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(body);
      assert.equal(fresh.status, 200);
      assert.equal(fresh.body.meta.versionId, '2');
    });
  });

  describe('delete', () => {
    it('deletes; a read then answers 410 Gone and history keeps a deletion version', async () => {
      const created = await createResource(t, patient);
      const del = await t.api().delete(`/fhir/Patient/${created.id}`);
      assert.equal(del.status, 200);
      assert.equal(del.headers.etag, 'W/"2"');
      const read = await t.api().get(`/fhir/Patient/${created.id}`);
      assert.equal(read.status, 410);
      assertOutcome(read.body, /deleted/);
      const history = await t.api().get(`/fhir/Patient/${created.id}/_history`);
      assert.equal(history.body.total, 2);
      assert.equal(history.body.entry[0].request.method, 'DELETE');
      assert.equal(history.body.entry[0].resource, undefined);
      const vreadDeleted = await t.api().get(`/fhir/Patient/${created.id}/_history/2`);
      assert.equal(vreadDeleted.status, 410);
    });

    it('succeeds when the resource does not exist', async () => {
      const res = await t.api().delete('/fhir/Patient/never-existed');
      assert.equal(res.status, 200);
      assertOutcome(res.body, /nothing to delete/);
    });

    it('lets an update bring a deleted resource back as a new version', async () => {
      const created = await createResource(t, patient);
      await t.api().delete(`/fhir/Patient/${created.id}`);
      const res = await t.api().put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(created));
      assert.equal(res.status, 201);
      assert.equal(res.body.meta.versionId, '3');
    });
  });

  describe('request options', () => {
    // Not an MTM-profiled type: these tests are about HTTP options, not validation.
    const statement: Practitioner = {
      resourceType: 'Practitioner',
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
      name: [{ family: 'Okafor', given: ['Chidi'], suffix: ['PharmD'] }],
    };

    it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
      const minimal = await t.api().post('/fhir/Practitioner').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(JSON.stringify(statement));
      assert.equal(minimal.status, 201);
      assert.equal(minimal.text, '');
      assert.ok(minimal.headers.location);
      const oo = await t.api().post('/fhir/Practitioner').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(JSON.stringify(statement));
      assert.equal(oo.status, 201);
      assert.equal(oo.body.resourceType, 'OperationOutcome');
    });

    it('pretty-prints with _pretty=true and accepts _format=json', async () => {
      const created = await createResource(t, statement);
      const res = await t.api().get(`/fhir/Practitioner/${created.id}?_format=json&_pretty=true`);
      assert.equal(res.status, 200);
      assert.match(res.text, /\n  "resourceType"/);
    });

    it('answers 406 when only XML is acceptable', async () => {
      const created = await createResource(t, statement);
      const byFormat = await t.api().get(`/fhir/Practitioner/${created.id}?_format=xml`);
      assert.equal(byFormat.status, 406);
      assertOutcome(byFormat.body, /JSON only/);
      const byAccept = await t.api().get(`/fhir/Practitioner/${created.id}`).set('Accept', 'application/fhir+xml');
      assert.equal(byAccept.status, 406);
    });

    it('answers 405 with Allow for a method the path does not support', async () => {
      const res = await t.api().post('/fhir/Patient/abc');
      assert.equal(res.status, 405);
      assert.match(res.headers.allow, /PUT/);
      assertOutcome(res.body);
    });

    it('answers 404 as an OperationOutcome outside the FHIR base', async () => {
      const res = await t.api().get('/elsewhere');
      assert.equal(res.status, 404);
      assertOutcome(res.body);
    });
  });
});

describe('HEAD requests', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it('answers HEAD like GET, with headers and no body', async () => {
    const created = await createResource(t, patient);
    const res = await t.api().head(`/fhir/Patient/${created.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.etag, 'W/"1"');
    assert.equal(res.text, undefined);
  });
});
