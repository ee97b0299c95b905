import assert from 'node:assert/strict';
import type { MedicationStatement, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { PROFILE } from '../../src/conformance/canonical';
import { createResourceValidator, DEFAULT_REQUIRED_PROFILES } from '../../src/validation';
import { MedplumStage } from '../../src/validation/medplum-stage';
import { readExample } from '../examples/example-files';

const strict = createResourceValidator({ lenientUnknownProfiles: false });
const lenient = createResourceValidator({ lenientUnknownProfiles: true });
const statement = (): MedicationStatement => readExample<MedicationStatement>('mtm/medication-statement.json');
const errors = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
const at = (issues: OperationOutcomeIssue[], expression: string) => issues.find((i) => i.expression?.[0] === expression);

describe('the validation pipeline', () => {
  describe('which profiles apply', () => {
    it('reports the MTM profile a valid MedicationStatement was validated against, even without meta.profile', () => {
      const { meta: _meta, ...ms } = statement();
      const result = strict.validate(ms as Resource);
      assert.equal(result.valid, true);
      assert.deepEqual(result.appliedProfiles, [PROFILE.medicationStatement]);
    });

    it('requires the MTM profile of a MedicationStatement without meta.profile (subject a Group -> error, dosage.text missing -> warning)', () => {
      const { meta: _meta, ...ms } = statement();
      delete ms.dosage?.[0].text;
      ms.subject = { reference: 'Group/1' };
      const result = strict.validate(ms as Resource);
      assert.equal(result.valid, false);
      assert.match(at(result.issues, 'MedicationStatement.subject')?.diagnostics ?? '', /expected Patient/);
      const warning = at(result.issues, 'MedicationStatement');
      assert.equal(warning?.severity, 'warning');
      assert.match(warning?.diagnostics ?? '', /^mtm-ms-2: .*How I use it/);
    });

    it('leaves a CarePlan without the MAP category to the base definition', () => {
      const plan = readExample<Resource & { category?: unknown; meta?: unknown; supportingInfo?: unknown }>('mtm/medication-action-plan.json');
      delete plan.meta;
      delete plan.supportingInfo;
      plan.category = [{ text: 'Diet' }];
      const result = strict.validate(plan);
      assert.equal(result.valid, true, JSON.stringify(result.issues));
      assert.deepEqual(result.appliedProfiles, []);
    });

    it('requires the MAP profile of a CarePlan with SNOMED 736378000 as category', () => {
      const plan = readExample<Resource & { meta?: unknown; supportingInfo?: unknown }>('mtm/medication-action-plan.json');
      delete plan.meta;
      delete plan.supportingInfo;
      const result = strict.validate(plan);
      assert.equal(at(result.issues, 'CarePlan.supportingInfo')?.diagnostics, 'Missing required property');
    });

    it('takes its per-type rules from the options: with none, a MedicationStatement without dosage passes on the base definition', () => {
      const none = createResourceValidator({ lenientUnknownProfiles: false, requiredProfiles: [], warmUp: false });
      const { meta: _meta, dosage: _dosage, ...ms } = statement();
      const result = none.validate(ms as Resource);
      assert.equal(result.valid, true, JSON.stringify(result.issues));
      assert.deepEqual(result.appliedProfiles, []);
    });

    it('accepts a FHIRPath condition in a rule', () => {
      const onlyActive = createResourceValidator({
        lenientUnknownProfiles: false,
        warmUp: false,
        requiredProfiles: [{ resourceType: 'MedicationStatement', profile: PROFILE.medicationStatement, when: "status = 'active'" }],
      });
      const { meta: _meta, ...ms } = statement();
      ms.subject = { reference: 'Group/1' };
      assert.equal(onlyActive.validate({ ...ms, status: 'completed' } as Resource).valid, true);
      assert.equal(onlyActive.validate(ms as Resource).valid, false);
    });

    it('refuses to start with a rule for a profile it does not know', () => {
      assert.throws(() => createResourceValidator({ lenientUnknownProfiles: false, requiredProfiles: [{ resourceType: 'Task', profile: 'http://x/y' }] }), /not known/);
    });

    it('ships default rules for the MTM resource types', () => {
      assert.deepEqual(DEFAULT_REQUIRED_PROFILES.map((r) => r.resourceType).sort(), ['CarePlan', 'Communication', 'CommunicationRequest', 'DetectedIssue', 'EpisodeOfCare', 'List', 'MedicationStatement', 'Task']);
      assert.equal(strict.knownProfiles().length, 8);
    });
  });

  describe('meta.profile and the profile option', () => {
    const unknown = 'http://example.org/StructureDefinition/other';

    it('rejects an unknown meta.profile with an error at its position', () => {
      const ms = statement();
      ms.meta = { profile: [unknown] };
      const result = strict.validate(ms);
      assert.equal(result.valid, false);
      assert.match(at(result.issues, 'MedicationStatement.meta.profile[0]')?.diagnostics ?? '', /not known to this server/);
    });

    it('only warns about an unknown meta.profile when lenient, and still applies the MTM profile', () => {
      const ms = statement();
      ms.meta = { profile: [unknown] };
      const result = lenient.validate(ms);
      assert.equal(result.valid, true);
      assert.equal(at(result.issues, 'MedicationStatement.meta.profile[0]')?.severity, 'warning');
      assert.deepEqual(result.appliedProfiles, [PROFILE.medicationStatement]);
    });

    it('ignores a version on the profile URL and accepts the base definition URL', () => {
      const ms = statement();
      ms.meta = { profile: [`${PROFILE.medicationStatement}|0.1.0`, 'http://hl7.org/fhir/StructureDefinition/MedicationStatement'] };
      assert.equal(strict.validate(ms).valid, true);
    });

    it('applies a profile asked for in the options (as $validate?profile= does), even one the rules would not require', () => {
      const list = readExample<Resource & { meta?: unknown; code?: unknown; source?: unknown }>('mtm/medication-list.json');
      delete list.meta;
      delete list.source;
      list.code = { coding: [{ system: 'http://loinc.org', code: '11450-4' }] };
      assert.equal(strict.validate(list).valid, true, 'not an MTM list code: base definition only');
      const result = strict.validate(list, { profiles: [PROFILE.medicationList] });
      assert.equal(result.valid, false);
      assert.match(at(result.issues, 'List.source')?.diagnostics ?? '', /Missing required property/);
    });

    it('rejects an unknown profile asked for in the options, lenient or not', () => {
      const result = lenient.validate(statement(), { profiles: [unknown] });
      assert.equal(result.valid, false);
      assert.equal(errors(result.issues).length, 1);
    });
  });

  describe('modes', () => {
    it('mode update needs the resource id', () => {
      const { id: _id, ...ms } = statement();
      const result = strict.validate(ms as Resource, { mode: 'update' });
      assert.equal(at(result.issues, 'MedicationStatement.id')?.code, 'required');
      assert.equal(strict.validate(statement(), { mode: 'update' }).valid, true);
    });

    it('mode delete accepts the deletion with an informational issue', () => {
      const result = strict.validate(statement(), { mode: 'delete' });
      assert.equal(result.valid, true);
      assert.equal(result.issues[0].severity, 'information');
    });
  });

  describe('other resources get the base definition and our checks', () => {
    it('checks required bindings, data-type invariants and reference targets of any resource type', () => {
      const CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
      const allergy = (clinicalStatus: string) =>
        ({
          resourceType: 'AllergyIntolerance',
          // Required binding on a CodeableConcept: no JSON schema can check it, only our binding check.
          clinicalStatus: { coding: [{ system: CLINICAL, code: clinicalStatus }] },
          code: { text: 'penicillin' },
          patient: { reference: 'Practitioner/1' },
          onsetPeriod: { start: '2020-01-01', end: '2019-01-01' },
        }) as Resource;
      const result = strict.validate(allergy('dormant'));
      assert.match(at(result.issues, 'AllergyIntolerance.clinicalStatus')?.diagnostics ?? '', /dormant\) is in the required ValueSet http:\/\/hl7.org\/fhir\/ValueSet\/allergyintolerance-clinical/);
      assert.match(at(result.issues, 'AllergyIntolerance.onsetPeriod')?.diagnostics ?? '', /per-1/);
      assert.match(at(result.issues, 'AllergyIntolerance.patient')?.diagnostics ?? '', /Practitioner is not allowed/);
      assert.equal(errors(result.issues).length, 3, JSON.stringify(result.issues));
      const known = strict.validate(allergy('resolved'));
      assert.equal(at(known.issues, 'AllergyIntolerance.clinicalStatus'), undefined, 'a code of the ValueSet passes');
      assert.equal(errors(known.issues).length, 2, JSON.stringify(known.issues));
    });

    it('checks a local reference against the contained resources (ref-1)', () => {
      const ms = statement() as MedicationStatement & { medicationCodeableConcept?: unknown };
      delete ms.medicationCodeableConcept;
      ms.medicationReference = { reference: '#med' };
      const result = strict.validate(ms);
      assert.match(at(result.issues, 'MedicationStatement.medicationReference')?.diagnostics ?? '', /ref-1/);
      ms.contained = [{ resourceType: 'Medication', id: 'med', code: { text: 'warfarin 5 mg tablet' } }];
      assert.equal(strict.validate(ms).valid, true, JSON.stringify(strict.validate(ms).issues));
    });

    it('validates the resources inside a Bundle against their base definitions', () => {
      const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'woman' } }] } as unknown as Resource;
      const result = strict.validate(bundle);
      assert.equal(result.valid, false);
      assert.ok(result.issues.some((i) => i.expression?.[0]?.startsWith('Bundle.entry[0].resource')), JSON.stringify(result.issues));
    });
  });

  describe('bad input', () => {
    for (const [name, input] of [
      ['null', null],
      ['an array', []],
      ['a string', 'MedicationStatement'],
      ['an object without resourceType', { status: 'active' }],
      ['an unknown resource type', { resourceType: 'Prescription' }],
      ['nulls inside', { resourceType: 'MedicationStatement', status: null, subject: { reference: null } }],
      ['a number for an object', { resourceType: 'MedicationStatement', subject: 7, dosage: 'daily' }],
      ['deep nesting', { resourceType: 'Patient', extension: [{ url: 'a', extension: [{ url: 'b', extension: [{ url: 'c', valueString: 'x' }] }] }] }],
    ] as const) {
      it(`never throws on ${name}, and says what is wrong`, () => {
        const result = strict.validate(input as unknown as Resource);
        if (name !== 'deep nesting') assert.equal(result.valid, false);
        for (const i of result.issues) assert.ok(i.severity && i.code && i.diagnostics, JSON.stringify(i));
      });
    }

    it('collapses Medplum\'s one error per character of a string given for an object into one issue', () => {
      const stage = new MedplumStage();
      const issues = stage.validate({ resourceType: 'Patient', managingOrganization: 'Organization/1' } as unknown as Resource);
      const here = issues.filter((i) => i.expression?.[0]?.startsWith('Patient.managingOrganization'));
      assert.equal(here.length, 1, JSON.stringify(issues));
      assert.equal(here[0].diagnostics, 'Expected an object, but found a string');
    });
  });

  it('gives every issue a severity, a code, diagnostics and a FHIRPath expression', () => {
    const ms = statement() as MedicationStatement;
    ms.status = 'bogus' as MedicationStatement['status'];
    ms.subject = { reference: 'Group/1' };
    ms.effectivePeriod = { start: '2024-02-01', end: '2024-01-01' };
    const result = strict.validate(ms);
    assert.equal(errors(result.issues).length, 3, JSON.stringify(result.issues));
    for (const i of result.issues) {
      assert.ok(i.severity && i.code && i.diagnostics, JSON.stringify(i));
      assert.match(i.expression?.[0] ?? '', /^MedicationStatement(\.|$)/);
    }
  });
});
