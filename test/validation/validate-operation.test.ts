import assert from 'node:assert/strict';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { PROFILE } from '../../src/conformance/canonical';
import { readExample } from '../examples/example-files';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

describe('$validate over HTTP', () => {
  let t: TestServer;
  const post = (path: string, body: unknown) =>
    t.api().post(`${t.base}${path}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  const errors = (body: OperationOutcome) => (body.issue ?? []).filter((i) => i.severity === 'error');
  const statement = () => readExample('mtm/medication-statement.json');

  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('POST /MedicationStatement/$validate with a valid resource: 200 and an informational OperationOutcome', async () => {
    const res = await post('/MedicationStatement/$validate', statement());
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.deepEqual(errors(res.body), []);
    assert.equal(res.body.issue[0].severity, 'information');
  });

  it('an invalid resource still answers 200, with each issue, its expression and diagnostics', async () => {
    const res = await post('/MedicationStatement/$validate', { ...statement(), status: 'bogus', subject: { reference: 'Group/1' } });
    assert.equal(res.status, 200);
    const found = errors(res.body).map((i) => i.expression?.[0]).sort();
    assert.deepEqual(found, ['MedicationStatement.status', 'MedicationStatement.subject']);
  });

  it('takes the resource inside a Parameters body, with mode and profile', async () => {
    const list = readExample<Resource & { meta?: unknown; code?: unknown; source?: unknown }>('mtm/medication-list.json');
    delete list.meta;
    delete list.source;
    list.code = { coding: [{ system: 'http://loinc.org', code: '11450-4' }] };
    const parameters = (extra: object[]) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: list }, ...extra] });
    const plain = await post('/List/$validate', parameters([{ name: 'mode', valueCode: 'create' }]));
    assert.deepEqual(errors(plain.body), []);
    const profiled = await post('/List/$validate', parameters([{ name: 'profile', valueUri: PROFILE.medicationList }]));
    assert.equal(profiled.status, 200);
    assert.deepEqual(errors(profiled.body).map((i) => i.expression?.[0]), ['List.source']);
  });

  it('takes profile and mode from the query string too; an unknown profile is an error in the outcome', async () => {
    const res = await post('/MedicationStatement/$validate?profile=http://example.org/StructureDefinition/nope', statement());
    assert.equal(res.status, 200);
    assert.match(errors(res.body)[0]?.diagnostics ?? '', /not known to this server/);
  });

  it('mode=update needs the id of the URL at instance level', async () => {
    const stored = await createResource(t, statement());
    const same = await post(`/MedicationStatement/${stored.id}/$validate?mode=update`, { ...statement(), id: stored.id });
    assert.deepEqual(errors(same.body), []);
    const other = await post(`/MedicationStatement/${stored.id}/$validate?mode=update`, { ...statement(), id: 'someone-else' });
    assert.deepEqual(errors(other.body).map((i) => i.expression?.[0]), ['MedicationStatement.id']);
  });

  it('at instance level without a resource, validates the stored version; mode=delete of a missing one is 404', async () => {
    const stored = await createResource(t, statement());
    const res = await post(`/MedicationStatement/${stored.id}/$validate`, { resourceType: 'Parameters' });
    assert.equal(res.status, 200);
    assert.deepEqual(errors(res.body), []);
    const del = await post(`/MedicationStatement/${stored.id}/$validate?mode=delete`, { resourceType: 'Parameters' });
    assert.equal(del.status, 200);
    const missing = await post('/MedicationStatement/does-not-exist/$validate?mode=delete', { resourceType: 'Parameters' });
    assert.equal(missing.status, 404);
  });

  it('answers 400 for a bad mode, a missing resource or a resource of another type', async () => {
    assert.equal((await post('/MedicationStatement/$validate?mode=destroy', statement())).status, 400);
    assert.equal((await post('/MedicationStatement/$validate', { resourceType: 'Parameters' })).status, 400);
    assert.equal((await post('/Patient/$validate', statement())).status, 400);
  });
});
