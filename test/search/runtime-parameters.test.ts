import assert from 'node:assert/strict';
import type { Bundle, CapabilityStatement, OperationOutcome, SearchParameter } from '@medplum/fhirtypes';
import { createResource, startTestServer, type TestServer } from '../helpers/test-server';
import { expectIds, search } from './search-helpers';
import { completed, patientPreferring, pharmacyParameter, post, put, reindexStatus, waitForStatus } from './runtime-parameters-helpers';

async function patientParams(t: TestServer): Promise<Map<string, string | undefined>> {
  const res = await t.api().get(`${t.base}/metadata`);
  const patient = (res.body as CapabilityStatement).rest?.[0].resource?.find((r) => r.type === 'Patient');
  return new Map((patient?.searchParam ?? []).map((p) => [p.name, p.definition]));
}

describe('SearchParameters defined at run time', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  describe('an active SearchParameter on a Patient extension', () => {
    let sp: SearchParameter & { id: string };
    before(async () => {
      for (const [id, pharmacy] of [['p-main-st', 'Main Street Pharmacy'], ['p-harbor', 'Harbor Drugs'], ['p-main-st-2', 'Main Street Pharmacy'], ['p-none', undefined]] as const) {
        assert.equal((await put(t, patientPreferring(id, pharmacy))).status, 201);
      }
      const res = await post(t, pharmacyParameter());
      assert.equal(res.status, 201, JSON.stringify(res.body));
      sp = res.body as SearchParameter & { id: string };
    });

    it('re-indexes the resources stored before it, reports its progress, and then finds them', async () => {
      const status = await waitForStatus(t, sp.id, completed);
      assert.equal(status.applied, 'active');
      assert.equal(status.processed, 4, 'every stored Patient was re-indexed');
      const found = await expectIds(t, 'Patient', { 'preferred-pharmacy': 'main street' }, ['p-main-st', 'p-main-st-2']);
      assert.deepEqual(found.warnings, [], 'a completed re-index answers without a warning');
      await expectIds(t, 'Patient', { 'preferred-pharmacy:exact': 'Harbor Drugs' }, ['p-harbor']);
      await expectIds(t, 'Patient', { 'preferred-pharmacy:missing': 'true' }, ['p-none']);
    });

    let created: string;
    it('indexes new writes at once', async () => {
      const { id: _ignored, ...withoutId } = patientPreferring('ignored', 'Harbor Drugs');
      created = (await createResource(t, withoutId)).id;
      await expectIds(t, 'Patient', { 'preferred-pharmacy': 'harbor' }, ['p-harbor', created]);
      assert.equal((await put(t, patientPreferring('p-harbor', 'Main Street Pharmacy'))).status, 200);
      await expectIds(t, 'Patient', { 'preferred-pharmacy:exact': 'Harbor Drugs' }, [created]);
    });

    it('is listed in the CapabilityStatement with its definition, and sorts', async () => {
      assert.equal((await patientParams(t)).get('preferred-pharmacy'), pharmacyParameter().url);
      const sorted = await search(t, 'Patient', [['preferred-pharmacy:missing', 'false'], ['_sort', 'preferred-pharmacy']]);
      assert.equal(sorted.ids[0], created, 'Harbor Drugs sorts before Main Street Pharmacy');
      assert.equal(sorted.ids.length, 4);
    });

    it('stops when retired: its code is unknown again, and it leaves the CapabilityStatement', async () => {
      const retired = await put(t, { ...sp, status: 'retired' });
      assert.equal(retired.status, 200, JSON.stringify(retired.body));
      const lenient = await search(t, 'Patient', { 'preferred-pharmacy': 'main street' });
      assert.equal(lenient.ids.length, 5, 'the unknown parameter is ignored, as any unknown one is');
      assert.match(lenient.warnings.join(' '), /preferred-pharmacy/);
      const strict = await t.api().get(`${t.base}/Patient?preferred-pharmacy=x`).set('Prefer', 'handling=strict');
      assert.equal(strict.status, 400);
      assert.equal((await patientParams(t)).has('preferred-pharmacy'), false);
      assert.equal((await reindexStatus(t, sp.id)).applied, 'inactive');

      // Made active again, it is re-indexed: what was written while it was retired is found too.
      assert.equal((await put(t, patientPreferring('p-while-retired', 'Main Street Pharmacy'))).status, 201);
      assert.equal((await put(t, { ...sp, status: 'active' })).status, 200);
      await waitForStatus(t, sp.id, completed);
      await expectIds(t, 'Patient', { 'preferred-pharmacy': 'main street' }, ['p-main-st', 'p-main-st-2', 'p-harbor', 'p-while-retired']);
    });

    it('stops when deleted', async () => {
      assert.equal((await t.api().delete(`${t.base}/SearchParameter/${sp.id}`)).status, 200);
      const lenient = await search(t, 'Patient', { 'preferred-pharmacy': 'main street' });
      assert.match(lenient.warnings.join(' '), /preferred-pharmacy/);
      assert.equal((await patientParams(t)).has('preferred-pharmacy'), false);
    });
  });

  describe('checks before applying', () => {
    async function refused(overrides: Partial<SearchParameter>, status: number, pattern: RegExp, expression: string) {
      const url = `http://example.org/fhir/SearchParameter/refused-${Math.random().toString(36).slice(2)}`;
      const res = await post(t, pharmacyParameter({ url, ...overrides }));
      assert.equal(res.status, status, JSON.stringify(res.body));
      const issue = (res.body as OperationOutcome).issue?.[0];
      assert.match(issue?.diagnostics ?? '', pattern);
      assert.deepEqual(issue?.expression, [expression]);
      const stored = await search(t, 'SearchParameter', { url });
      assert.deepEqual(stored.ids, [], 'nothing is stored');
    }

    it('refuses an expression that is not FHIRPath (422)', async () => {
      await refused({ code: 'bad-path', expression: "Patient.extension('x'.value" }, 422, /not valid FHIRPath/, 'SearchParameter.expression');
      await refused({ code: 'bad-path', expression: 'Observation.code' }, 422, /no path starting at Patient/, 'SearchParameter.expression');
    });

    it('refuses composite and special types, and unknown bases (422)', async () => {
      await refused({ code: 'comp', type: 'composite' }, 422, /composite cannot be defined at run time/, 'SearchParameter.type');
      await refused({ code: 'spec', type: 'special' }, 422, /special cannot be defined at run time/, 'SearchParameter.type');
      await refused({ code: 'nobase', base: ['Pharmacy' as 'Patient'] }, 422, /"Pharmacy"/, 'SearchParameter.base[0]');
      await refused({ code: 'everything', base: ['Resource' as 'Patient'] }, 422, /every resource type/, 'SearchParameter.base[0]');
    });

    it('refuses a code a built-in parameter of its base already has (409)', async () => {
      await refused({ code: 'name' }, 409, /Patient already has a search parameter "name"/, 'SearchParameter.code');
      await refused({ code: '_content' }, 422, /must start with a letter/, 'SearchParameter.code');
    });

    it('refuses redefining a parameter the server ships (422)', async () => {
      const res = await post(t, pharmacyParameter({ url: 'http://hl7.org/fhir/SearchParameter/individual-family', code: 'family' }));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match((res.body as OperationOutcome).issue?.[0].diagnostics ?? '', /ships/);
    });

    it('refuses a second active parameter with the same code on the same base (409), and accepts it as a draft', async () => {
      const first = await post(t, pharmacyParameter({ url: 'http://example.org/fhir/SearchParameter/allergy-note', code: 'note-text', base: ['AllergyIntolerance'], expression: 'AllergyIntolerance.note.text' }));
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const clash = await post(t, pharmacyParameter({ url: 'http://example.org/fhir/SearchParameter/allergy-note-2', code: 'note-text', base: ['AllergyIntolerance'], expression: 'AllergyIntolerance.note.text' }));
      assert.equal(clash.status, 409, JSON.stringify(clash.body));
      const draft = await post(t, pharmacyParameter({ status: 'draft', url: 'http://example.org/fhir/SearchParameter/allergy-note-2', code: 'note-text', base: ['AllergyIntolerance'], expression: 'AllergyIntolerance.note.text' }));
      assert.equal(draft.status, 201, 'a draft is stored and not applied');
      assert.equal((await reindexStatus(t, (draft.body as { id: string }).id)).applied, 'inactive');
    });

    it('an expression that fails on some data never makes a write fail', async () => {
      // single() is an error on a Patient with two names: such a Patient is stored, just not indexed.
      const res = await post(t, pharmacyParameter({ url: 'http://example.org/fhir/SearchParameter/only-family', code: 'only-family', expression: 'Patient.name.single().family' }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const two = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Twonames' }, { family: 'Othername' }] });
      const one = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Onename' }] });
      await waitForStatus(t, (res.body as { id: string }).id, completed);
      await expectIds(t, 'Patient', { 'only-family': 'onename' }, [one.id]);
      await expectIds(t, 'Patient', { 'only-family': 'twonames' }, []);
      assert.equal((await t.api().get(`${t.base}/Patient/${two.id}`)).status, 200);
    });

    it('a transaction that fails leaves no parameter applied', async () => {
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { request: { method: 'POST', url: 'SearchParameter' }, resource: pharmacyParameter({ url: 'http://example.org/fhir/SearchParameter/rolled-back', code: 'rolled-back' }) },
          { request: { method: 'PUT', url: 'Patient/p-main-st', ifMatch: 'W/"99"' }, resource: patientPreferring('p-main-st', 'x') },
        ],
      };
      const res = await t.api().post(t.base).set('Content-Type', 'application/fhir+json').send(JSON.stringify(bundle));
      assert.equal(res.status, 412, JSON.stringify(res.body));
      const after = await search(t, 'Patient', { 'rolled-back': 'x' });
      assert.match(after.warnings.join(' '), /rolled-back/, 'the code is unknown: nothing was applied');
      assert.equal((await patientParams(t)).has('rolled-back'), false);
    });
  });
});
