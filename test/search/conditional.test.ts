import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords, MRN } from '../fixtures/search/mtm-records';
import { expectIds, search } from './search-helpers';

function newPatient(mrn: string, family = 'Okonkwo'): Patient {
  return { resourceType: 'Patient', identifier: [{ system: MRN, value: mrn }], name: [{ family, given: ['Grace'] }], birthDate: '1944-09-02' };
}

describe('Conditional create, update and delete', () => {
  let t: TestServer;
  before(async () => {
    // Storage yields between operations as MongoDB does, so concurrent "search, then write" requests
    // really overlap: without the transaction around them, the concurrency tests below fail.
    t = await startTestServer({ maxConditionalDeletes: 2, simulatedRoundTrips: true });
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  const post = (resource: object, condition?: string) => {
    const req = t.api().post(`${t.base}/${(resource as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON);
    if (condition !== undefined) req.set('If-None-Exist', condition);
    return req.send(JSON.stringify(resource));
  };
  const put = (path: string, resource: object) => t.api().put(`${t.base}/${path}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));

  describe('If-None-Exist', () => {
    it('creates when nothing matches', async () => {
      const res = await post(newPatient('MRN-2001'), `identifier=${MRN}|MRN-2001`);
      assert.equal(res.status, 201);
      assert.match(res.headers.location, /\/Patient\/[^/]+\/_history\/1$/);
    });

    it('answers 200 with the existing resource when one matches, creating nothing', async () => {
      const res = await post(newPatient('MRN-1002', 'Holloway'), `identifier=${MRN}|MRN-1002`);
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'margaret-holloway');
      assert.equal(res.headers.etag, 'W/"1"');
      await expectIds(t, 'Patient', { identifier: 'MRN-1002' }, ['margaret-holloway']);
    });

    it('answers 412 when several match', async () => {
      const res = await post(newPatient('MRN-2002'), 'address-city=springfield');
      assert.equal(res.status, 412);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });

    it('refuses a condition it cannot evaluate exactly rather than guess', async () => {
      for (const condition of ['shoe-size=9', 'name[$ne]=x', 'birthdate=last-week', '_count=1']) {
        const res = await post(newPatient('MRN-2003'), condition);
        assert.equal(res.status, 400, condition);
        assert.equal(res.body.resourceType, 'OperationOutcome');
      }
      await expectIds(t, 'Patient', { identifier: 'MRN-2003' }, []);
    });

    it('20 concurrent identical conditional creates produce exactly one resource', async () => {
      const responses = await Promise.all(Array.from({ length: 20 }, () => post(newPatient('MRN-3000', 'Race'), `identifier=${MRN}|MRN-3000`)));
      const statuses = responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [...Array(19).fill(200), 201]);
      assert.equal(new Set(responses.map((r) => r.body.id)).size, 1);
      const found = await search(t, 'Patient', { identifier: `${MRN}|MRN-3000`, _total: 'accurate' });
      assert.equal(found.bundle.total, 1);
    });
  });

  describe('conditional update (PUT /Type?criteria)', () => {
    it('creates when nothing matches, then updates the one match', async () => {
      const created = await put(`Patient?identifier=${MRN}|MRN-4000`, newPatient('MRN-4000'));
      assert.equal(created.status, 201);
      const updated = await put(`Patient?identifier=${MRN}|MRN-4000`, { ...newPatient('MRN-4000'), gender: 'female' });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.id, created.body.id);
      assert.equal(updated.body.meta.versionId, '2');
      await expectIds(t, 'Patient', [['identifier', 'MRN-4000'], ['gender', 'female']], [created.body.id]);
    });

    it('answers 412 when several match, and 400 when the body names another resource', async () => {
      assert.equal((await put('Patient?address-city=springfield', newPatient('MRN-4001'))).status, 412);
      const res = await put(`Patient?identifier=${MRN}|MRN-1001`, { ...newPatient('MRN-1001'), id: 'someone-else' });
      assert.equal(res.status, 400);
    });

    it('20 concurrent identical conditional updates make one resource with 20 versions', async () => {
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => put(`Patient?identifier=${MRN}|MRN-5000`, { ...newPatient('MRN-5000'), birthDate: `1950-01-${String(i + 1).padStart(2, '0')}` })));
      assert.deepEqual(responses.map((r) => r.status).sort(), [...Array(19).fill(200), 201]);
      const found = await search(t, 'Patient', { identifier: 'MRN-5000' });
      assert.equal(found.ids.length, 1);
      assert.equal(found.bundle.entry?.[0].resource?.meta?.versionId, '20');
    });
  });

  describe('conditional delete (DELETE /Type?criteria)', () => {
    it('deletes the matching resources, up to the configured maximum', async () => {
      await expectIds(t, 'MedicationStatement', [['patient', 'walter-nguyen'], ['status', 'completed']], ['ms-nguyen-metformin', 'ms-nguyen-acetaminophen']);
      const res = await t.api().delete(`${t.base}/MedicationStatement?patient=walter-nguyen&status=completed`);
      assert.equal(res.status, 200);
      await expectIds(t, 'MedicationStatement', { patient: 'walter-nguyen' }, ['ms-nguyen-furosemide']);
      assert.equal((await t.api().get(`${t.base}/MedicationStatement/ms-nguyen-metformin`)).status, 410);
    });

    it('answers 412 when more resources match than a conditional delete may remove', async () => {
      const res = await t.api().delete(`${t.base}/MedicationStatement?patient=rosa-alvarez`);
      assert.equal(res.status, 412);
      await expectIds(t, 'MedicationStatement', { patient: 'rosa-alvarez' }, ['ms-rosa-lisinopril', 'ms-rosa-metformin', 'ms-rosa-amlodipine', 'ms-rosa-atorvastatin']);
    });

    it('deletes nothing when nothing matches', async () => {
      const res = await t.api().delete(`${t.base}/MedicationStatement?patient=nobody`);
      assert.equal(res.status, 200);
    });

    it('never deletes everything because of a parameter it does not know', async () => {
      const res = await t.api().delete(`${t.base}/Task?shoe-size=9`);
      assert.equal(res.status, 400);
      assert.equal((await search(t, 'Task', {})).ids.length, 4);
      assert.equal((await t.api().delete(`${t.base}/Task`)).status, 400);
    });
  });
});
