/**
 * Both engines accept the same data: what MongoDB could not store (a document over 16 MiB of BSON,
 * a NUL inside a search value) is refused with a clear answer on the embedded engine too.
 */
import assert from 'node:assert/strict';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

/** A Patient carrying `mib` photos of about 1 MiB of base64 each (each under the 1 MiB base64Binary limit). */
function patientWithPhotos(mib: number) {
  const data = Buffer.alloc(760 * 1024, 7).toString('base64');
  return { resourceType: 'Patient', name: [{ family: 'Moreau' }], photo: Array.from({ length: mib }, () => ({ contentType: 'image/jpeg', data })) };
}

describe('Limits shared by both storage engines', function () {
  this.timeout(120_000);
  let t: TestServer;
  before(async () => (t = await startTestServer({ maxBodyBytes: 64 * 1024 * 1024 })));
  after(async () => t.close());

  it('answers 413 with an OperationOutcome, and stores nothing, for a resource over 16 MiB as stored', async () => {
    const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patientWithPhotos(18)));
    assert.equal(res.status, 413, JSON.stringify(res.body).slice(0, 300));
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal((await t.api().get('/fhir/Patient?_summary=count')).body.total, 0);
  });

  it('counts text in UTF-8 bytes: 6 million characters of 3 bytes each are over the limit', async () => {
    // The euro sign: 1 UTF-16 unit, 3 bytes of UTF-8. 20 photo titles of 300,000 (each under the 1 MB
    // string limit), which no search parameter copies into the search values.
    const photo = Array.from({ length: 20 }, (_, i) => ({ contentType: 'image/jpeg', title: `${i}${'\u20ac'.repeat(300_000)}` }));
    const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', photo }));
    assert.equal(res.status, 413, JSON.stringify(res.body).slice(0, 300));
    assert.match(res.body.issue[0].diagnostics, /16 MiB/);
    assert.equal((await t.api().get('/fhir/Patient?_summary=count')).body.total, 0);
  });

  it('still stores a large resource under the limit', async () => {
    const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(JSON.stringify(patientWithPhotos(8)));
    assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 300));
  });

  it('answers 400 to a search value holding a NUL character', async () => {
    const res = await t.api().get('/fhir/Patient?name=ro%00sa');
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /NUL/);
  });
});
