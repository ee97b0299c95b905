import assert from 'node:assert/strict';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const errors = (body: unknown): OperationOutcomeIssue[] => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };

describe('null in a primitive array: only as a placeholder for what its _ twin carries (R4 json.html)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const post = (name: object) => t.api().post(`${t.base}/Patient`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', name: [name] }));

  it('given ["Ada", null] with _given [null, {extension}] is stored as sent', async () => {
    const name = { family: 'Lovelace', given: ['Ada', null], _given: [null, absent] };
    const res = await post(name);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const read = await t.api().get(`${t.base}/Patient/${res.body.id}`);
    assert.deepEqual(read.body.name[0], name);
  });

  it('two nulls at the same index hold nothing: 422 at each', async () => {
    const res = await post({ family: 'Lovelace', given: ['Ada', null], _given: [absent, null] });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]).sort(), ['Patient.name[0]._given[1]', 'Patient.name[0].given[1]']);
  });

  it('a null in the _ array beyond the end of the values is 422', async () => {
    const res = await post({ family: 'Lovelace', given: ['Ada'], _given: [absent, null] });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    // Medplum also says given[1], the value the extra _given item would describe, is missing
    assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]).sort(), ['Patient.name[0]._given[1]', 'Patient.name[0].given[1]']);
  });

  it('null with no twin array at all is 422', async () => {
    const res = await post({ family: 'Lovelace', given: ['Ada', null] });
    assert.equal(res.status, 422);
    assert.deepEqual(errors(res.body).map((i) => i.expression?.[0]), ['Patient.name[0].given[1]']);
  });
});
