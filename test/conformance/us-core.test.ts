/**
 * US Core 6.1.0 (profiles/us-core): data claiming its profiles is held to them. The conforming
 * resources are in test/fixtures/us-core-resources.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { bloodPressure, claiming, condition, labResult, medicationRequest, patient, smokingStatus, UC, ucum } from '../fixtures/us-core-resources';

type Issue = NonNullable<OperationOutcome['issue']>[number];
const errors = (body: unknown): Issue[] => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
const errorAt = (body: unknown, expression: string, diagnostics?: RegExp): boolean =>
  errors(body).some((i) => i.expression?.[0] === expression && (!diagnostics || diagnostics.test(i.diagnostics ?? '')));

describe('US Core 6.1.0 profiles claimed by real data', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const post = (resource: object) =>
    t.api().post(`/fhir/${(resource as Resource).resourceType}`).set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(JSON.stringify(resource));

  describe('Patient', () => {
    it('a Patient claiming us-core-patient without identifier is refused: 422 at Patient.identifier', async () => {
      const { identifier: _identifier, ...withoutIdentifier } = patient;
      const res = await post(withoutIdentifier);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.ok(errorAt(res.body, 'Patient.identifier'), JSON.stringify(res.body));
    });

    it('a conforming US Core Patient (race, ethnicity, birth sex) is stored, with no warning that the profile is unknown', async () => {
      const res = await post(patient);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const issues = (res.body as OperationOutcome).issue ?? [];
      assert.ok(!issues.some((i) => i.severity === 'warning' || i.severity === 'error'), JSON.stringify(issues));
    });

    it('a name with neither family nor given fails invariant us-core-6', async () => {
      const res = await post({ ...patient, name: [{ text: 'Amy Shaw' }] });
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'Patient.name[0]', /us-core-6/), JSON.stringify(res.body));
    });
  });

  describe('US Core extensions, wherever they appear', () => {
    const race = patient.extension[0];

    it('a race extension without its required text is refused, at the extension', async () => {
      const withoutText = { ...race, extension: (race.extension ?? []).filter((e) => e.url !== 'text') };
      const res = await post({ ...patient, extension: [withoutText] });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.ok(errors(res.body).some((i) => i.expression?.[0]?.startsWith('Patient.extension[0]') && /text/.test(i.diagnostics ?? '')), JSON.stringify(res.body));
    });

    it('a birth sex given as a string instead of a code is refused, even on a Patient claiming no profile', async () => {
      const { meta: _meta, ...unclaimed } = patient;
      const res = await post({ ...unclaimed, extension: [{ url: `${UC}us-core-birthsex`, valueString: 'F' }] });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.ok(errorAt(res.body, 'Patient.extension[0].valueString'), JSON.stringify(res.body));
    });
  });

  describe('MedicationRequest, Condition, Observation', () => {
    for (const [label, resource] of [
      ['a US Core MedicationRequest (community order, RxNorm, dosage)', medicationRequest],
      ['a US Core Condition on the problem list (SNOMED CT, asserted date)', condition],
      ['a US Core laboratory result (HbA1c in UCUM %)', labResult],
      ['a US Core blood pressure with systolic and diastolic components', bloodPressure],
      ['a US Core smoking status', smokingStatus],
    ] as const) {
      it(`${label} is stored, checked against its profile`, async () => {
        const res = await post(resource);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const issues = (res.body as OperationOutcome).issue ?? [];
        assert.ok(!issues.some((i) => /not known/.test(i.diagnostics ?? '')), JSON.stringify(issues));
      });
    }

    it('a PractitionerRole with two phone numbers passes pd-1 ("telecom or endpoint"); one with neither fails it', async () => {
      const role = claiming('us-core-practitionerrole', {
        resourceType: 'PractitionerRole',
        practitioner: { reference: 'Practitioner/uc-prac-1' },
        organization: { reference: 'Organization/uc-org-1' },
        telecom: [{ system: 'phone', value: '555-555-1001' }, { system: 'fax', value: '555-555-1002' }],
      });
      const ok = await post(role);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const { telecom: _telecom, ...unreachable } = role;
      const res = await post(unreachable);
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'PractitionerRole', /pd-1/), JSON.stringify(res.body));
    });

    it('an order without a requester fails us-core-21', async () => {
      const { requester: _requester, ...withoutRequester } = medicationRequest;
      const res = await post(withoutRequester);
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'MedicationRequest', /us-core-21/), JSON.stringify(res.body));
    });

    it('a Condition without category or code is refused, naming both', async () => {
      const { category: _category, code: _code, ...bare } = condition;
      const res = await post(bare);
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'Condition.category') && errorAt(res.body, 'Condition.code'), JSON.stringify(res.body));
    });

    it('a Condition claiming the problems profile whose only category is encounter-diagnosis is refused: its us-core category slice is empty', async () => {
      const encounterDiagnosis = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }];
      const res = await post({ ...condition, category: encounterDiagnosis });
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'Condition.category', /slice 'us-core'.*found 0/), JSON.stringify(res.body));
      const healthConcern = [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/condition-category', code: 'health-concern' }] }];
      assert.equal((await post({ ...condition, category: [...encounterDiagnosis, ...healthConcern] })).status, 201);
    });

    it('a laboratory result dated only to the year fails us-core-1', async () => {
      const res = await post({ ...labResult, effectiveDateTime: '2026' });
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'Observation.effective[x]', /us-core-1/), JSON.stringify(res.body));
    });

    it('a blood pressure without its diastolic component, or in a unit other than mm[Hg], is refused', async () => {
      const noDiastolic = await post({ ...bloodPressure, component: [bloodPressure.component[0]] });
      assert.equal(noDiastolic.status, 422);
      assert.ok(errors(noDiastolic.body).some((i) => /diastolic/.test(i.diagnostics ?? '')), JSON.stringify(noDiastolic.body));
      const mmHg = { ...bloodPressure.component[1], valueQuantity: ucum(82, 'mmHg') };
      const wrongUnit = await post({ ...bloodPressure, component: [bloodPressure.component[0], mmHg] });
      assert.equal(wrongUnit.status, 422);
      assert.ok(errorAt(wrongUnit.body, 'Observation.component[1].valueQuantity.code'), JSON.stringify(wrongUnit.body));
    });

    it('a smoking status with a status outside US Core\'s required ValueSet (preliminary) is refused', async () => {
      const res = await post({ ...smokingStatus, status: 'preliminary' });
      assert.equal(res.status, 422);
      assert.ok(errorAt(res.body, 'Observation.status', /us-core-observation-smoking-status-status/), JSON.stringify(res.body));
    });
  });

  describe('a hospital discharge list claiming US Core, in a transaction', () => {
    const discharge = (): Bundle => {
      const file = path.resolve(__dirname, '../../examples/discharge/discharge-transaction.bundle.json');
      const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource as Resource;
        if (resource.resourceType === 'Patient') resource.meta = { profile: [`${UC}us-core-patient`] };
        if (resource.resourceType === 'Practitioner') {
          resource.meta = { profile: [`${UC}us-core-practitioner`] };
          // An NPI whose check digit is right (the example's is made up), as US Core checks it.
          resource.identifier = [
            { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' },
            { system: 'http://riverside-general.example.org/fhir/sid/staff', value: 'RGH-P-0042' },
          ];
          (entry as BundleEntry).request = { method: 'POST', url: 'Practitioner' };
        }
      }
      return bundle;
    };
    const practitionerOf = (bundle: Bundle) => bundle.entry?.find((e) => e.resource?.resourceType === 'Practitioner')?.resource as Resource & { identifier: { value: string }[] };

    it('is accepted whole when its Patient and Practitioner conform to US Core', async () => {
      const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(discharge()));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const statuses = ((res.body as Bundle).entry ?? []).map((e) => e.response?.status?.slice(0, 3));
      assert.equal(statuses.length, 13);
      assert.ok(statuses.every((s) => s === '201' || s === '200'), statuses.join(','));
    });

    it('is refused whole, with the entry named, when the Practitioner\'s NPI fails US Core\'s check digit rule (us-core-17)', async () => {
      const bundle = discharge();
      practitionerOf(bundle).identifier[0].value = '1234567890';
      const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
      assert.ok(res.status === 400 || res.status === 422, `${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(errors(res.body).some((i) => /us-core-17/.test(i.diagnostics ?? '')), JSON.stringify(res.body));
      const stored = await t.api().get('/fhir/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890');
      assert.equal((stored.body as Bundle).total ?? (stored.body as Bundle).entry?.length ?? 0, 0);
    });
  });
});
