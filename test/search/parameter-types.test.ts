import assert from 'node:assert/strict';
import { loadConformanceResources } from '../../src/conformance';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords, RXNORM, UCUM } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, search } from './search-helpers';

const PUBLIC_BASE = 'https://mtm.example.org/fhir';
const ROSA = ['ms-rosa-lisinopril', 'ms-rosa-metformin', 'ms-rosa-amlodipine', 'ms-rosa-atorvastatin'];
const HOLLOWAY = ['ms-holloway-warfarin', 'ms-holloway-clopidogrel', 'ms-holloway-amlodipine'];
const NGUYEN = ['ms-nguyen-metformin', 'ms-nguyen-acetaminophen', 'ms-nguyen-furosemide'];
const ALL_STATEMENTS = [...ROSA, ...HOLLOWAY, ...NGUYEN];
const COMPLETED = ['ms-rosa-amlodipine', 'ms-nguyen-metformin', 'ms-nguyen-acetaminophen'];

describe('Search parameter types and modifiers', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ publicBaseUrl: PUBLIC_BASE });
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  describe('string', () => {
    it('matches the start of any name part, ignoring case and accents', async () => {
      await expectIds(t, 'Patient', { name: 'rosa' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { name: 'ALVAR' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { family: 'álvarez' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { 'address-city': 'san jose' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { name: 'osa' }, []);
    });

    it('treats commas as OR and repeated parameters as AND', async () => {
      await expectIds(t, 'Patient', { name: 'ros,nguy' }, ['rosa-alvarez', 'walter-nguyen']);
      await expectIds(t, 'Patient', [['address-city', 'springfield'], ['address-state', 'IL']], ['margaret-holloway']);
      await expectIds(t, 'Patient', [['name', 'rosa'], ['family', 'nguyen']], []);
    });

    it(':exact compares the whole value, case and accents included', async () => {
      await expectIds(t, 'Patient', { 'family:exact': 'Álvarez' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { 'family:exact': 'alvarez' }, []);
      await expectIds(t, 'Patient', { 'family:exact': 'Holl' }, []);
    });

    it(':contains matches anywhere in the value', async () => {
      await expectIds(t, 'Patient', { 'name:contains': 'lowa' }, ['margaret-holloway']);
      await expectIds(t, 'Practitioner', { 'name:contains': 'harm' }, ['pharm-okafor']);
    });
  });

  describe('token', () => {
    it('matches system|code, code, system| and |code', async () => {
      await expectIds(t, 'MedicationStatement', { code: `${RXNORM}|197361` }, ['ms-rosa-amlodipine', 'ms-holloway-amlodipine']);
      await expectIds(t, 'MedicationStatement', { code: '197361' }, ['ms-rosa-amlodipine', 'ms-holloway-amlodipine']);
      await expectIds(t, 'MedicationStatement', { code: 'http://snomed.info/sct|197361' }, []);
      await expectIds(t, 'MedicationStatement', { code: `${RXNORM}|` }, ALL_STATEMENTS);
      await expectIds(t, 'MedicationStatement', { code: '|197361' }, []);
      await expectIds(t, 'Patient', { gender: '|male' }, ['walter-nguyen']);
    });

    it('ORs comma-separated codes of different systems', async () => {
      await expectIds(t, 'MedicationStatement', { code: `${RXNORM}|855332,http://snomed.info/sct|309362,${RXNORM}|309362` }, [
        'ms-holloway-warfarin',
        'ms-holloway-clopidogrel',
      ]);
    });

    it('matches identifiers, booleans and telecom values', async () => {
      await expectIds(t, 'MedicationStatement', { identifier: 'http://healthy-rx.example.org/fhir/sid/medication-statement|MS-ROSA-METFORMIN' }, ['ms-rosa-metformin']);
      await expectIds(t, 'Patient', { identifier: 'MRN-1003' }, ['walter-nguyen']);
      await expectIds(t, 'Patient', { active: 'true' }, ['rosa-alvarez', 'margaret-holloway']);
      await expectIds(t, 'Patient', { email: 'rosa.alvarez@example.org' }, ['rosa-alvarez']);
    });

    it(':not keeps resources without the code, including those with no value at all', async () => {
      await expectIds(t, 'MedicationStatement', { 'status:not': 'active' }, COMPLETED);
      await expectIds(t, 'MedicationStatement', [['patient', 'rosa-alvarez'], ['code:not', `${RXNORM}|197361`]], [
        'ms-rosa-lisinopril',
        'ms-rosa-metformin',
        'ms-rosa-atorvastatin',
      ]);
    });

    it(':text searches the display and text of codes', async () => {
      await expectIds(t, 'MedicationStatement', { 'code:text': 'AMLODIPINE' }, ['ms-rosa-amlodipine', 'ms-holloway-amlodipine']);
      await expectIds(t, 'MedicationStatement', { 'code:text': 'oral tab' }, ALL_STATEMENTS);
      await expectIds(t, 'DetectedIssue', { 'code:text': 'interaction' }, ['di-holloway-bleeding']);
      await expectIds(t, 'Observation', { 'component-code:text': 'systolic' }, ['obs-nguyen-bp']);
    });

    it(':missing finds resources with and without a value', async () => {
      await expectIds(t, 'MedicationStatement', { 'category:missing': 'false' }, ['ms-rosa-lisinopril', 'ms-rosa-metformin']);
      assert.equal((await search(t, 'MedicationStatement', { 'category:missing': 'true' })).ids.length, 8);
      await expectBadRequest(t, 'MedicationStatement', { 'category:missing': 'maybe' }, 'category:missing');
    });

    it(':of-type matches an identifier by its type and value', async () => {
      await expectIds(t, 'Patient', { 'identifier:of-type': 'http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-1002' }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { 'identifier:of-type': 'http://terminology.hl7.org/CodeSystem/v2-0203|DL|MRN-1002' }, []);
    });

    it(':in and :not-in test membership of a bundled ValueSet', async () => {
      await expectIds(t, 'DetectedIssue', { 'code:in': 'http://mtm-fhir.org/fhir/ValueSet/mtm-detected-issue-type' }, [
        'di-holloway-bleeding',
        'di-rosa-adherence',
        'di-nguyen-dose',
      ]);
      await expectIds(t, 'DetectedIssue', { 'code:not-in': 'http://mtm-fhir.org/fhir/ValueSet/mtm-detected-issue-type' }, []);
      await expectIds(t, 'MedicationStatement', { 'category:in': 'http://hl7.org/fhir/ValueSet/medication-statement-category' }, [
        'ms-rosa-lisinopril',
        'ms-rosa-metformin',
      ]);
      assert.equal((await search(t, 'MedicationStatement', { 'category:not-in': 'http://hl7.org/fhir/ValueSet/medication-statement-category' })).ids.length, 8);
      // status is a `code`: stored without a system, it still belongs to the ValueSet
      await expectIds(t, 'MedicationStatement', { 'status:in': 'http://hl7.org/fhir/ValueSet/medication-statement-status' }, ALL_STATEMENTS);
      await expectBadRequest(t, 'DetectedIssue', { 'code:in': 'http://example.org/no-such-valueset' }, 'code:in');
    });

    it('serves our own token SearchParameters from profiles/', async () => {
      await expectIds(t, 'Task', { 'delivery-method': 'http://mtm-fhir.org/fhir/CodeSystem/cms-cmr-delivery-method|02' }, ['task-holloway-cmr']);
      await expectIds(t, 'DetectedIssue', { mitigation: 'http://terminology.hl7.org/CodeSystem/v3-ActCode|5' }, ['di-holloway-bleeding']);
    });

    it('_tag and _security match meta labels', async () => {
      await expectIds(t, 'MedicationStatement', { _tag: 'http://healthy-rx.example.org/fhir/tags|as-needed' }, ['ms-nguyen-acetaminophen']);
      await expectIds(t, 'Patient', { _security: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R' }, ['walter-nguyen']);
      await expectIds(t, 'Patient', { '_security:not': 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R' }, ['rosa-alvarez', 'margaret-holloway']);
    });

    it('_id matches ids, with :not', async () => {
      await expectIds(t, 'Patient', { _id: 'rosa-alvarez,walter-nguyen' }, ['rosa-alvarez', 'walter-nguyen']);
      await expectIds(t, 'Patient', { '_id:not': 'rosa-alvarez' }, ['margaret-holloway', 'walter-nguyen']);
    });
  });

  describe('reference', () => {
    it('accepts Type/id, a bare id and an absolute URL on this server', async () => {
      await expectIds(t, 'MedicationStatement', { patient: 'Patient/margaret-holloway' }, HOLLOWAY);
      await expectIds(t, 'MedicationStatement', { patient: 'margaret-holloway' }, HOLLOWAY);
      await expectIds(t, 'MedicationStatement', { subject: 'Patient/margaret-holloway/_history/1' }, HOLLOWAY);
      await expectIds(t, 'MedicationStatement', { patient: `${PUBLIC_BASE}/Patient/margaret-holloway` }, HOLLOWAY);
      await expectIds(t, 'MedicationStatement', { patient: 'http://elsewhere.example.org/fhir/Patient/margaret-holloway' }, []);
    });

    it(':[Type] restricts the target type', async () => {
      await expectIds(t, 'MedicationStatement', { 'subject:Patient': 'walter-nguyen' }, NGUYEN);
      await expectIds(t, 'MedicationStatement', { 'source:Practitioner': 'dr-patel' }, ['ms-nguyen-acetaminophen', 'ms-nguyen-furosemide']);
      await expectIds(t, 'MedicationStatement', { 'source:Patient': 'dr-patel' }, []);
      await expectBadRequest(t, 'MedicationStatement', { 'patient:Practitioner': 'dr-patel' }, 'patient:Practitioner');
    });

    it(':identifier matches the identifier carried by the reference', async () => {
      await expectIds(t, 'DetectedIssue', { 'author:identifier': 'http://hl7.org/fhir/sid/us-npi|1497758544' }, [
        'di-holloway-bleeding',
        'di-rosa-adherence',
        'di-nguyen-dose',
      ]);
      await expectIds(t, 'DetectedIssue', { 'author:identifier': 'http://hl7.org/fhir/sid/us-npi|0000000000' }, []);
    });

    it(':missing finds review tasks nobody owns yet', async () => {
      await expectIds(t, 'Task', { 'owner:missing': 'true' }, ['task-rosa-tmr']);
    });

    it('serves our own reference SearchParameter (Task outputs)', async () => {
      await expectIds(t, 'Task', { output: 'CarePlan/map-holloway' }, ['task-holloway-cmr']);
      await expectIds(t, 'Task', { output: 'List/list-rosa-alvarez' }, ['task-rosa-cmr']);
    });
  });

  describe('uri', () => {
    it('matches exactly, and with :below and :above', async () => {
      const reviewType = 'http://mtm-fhir.org/fhir/ValueSet/mtm-review-type';
      await expectIds(t, 'ValueSet', { url: reviewType }, ['mtm-review-type']);
      const ours = loadConformanceResources().filter((r) => r.resourceType === 'ValueSet').length;
      assert.equal((await search(t, 'ValueSet', { 'url:below': 'http://mtm-fhir.org/fhir/ValueSet/', _count: '1000' })).ids.length, ours);
      await expectIds(t, 'ValueSet', { 'url:below': 'http://mtm-fhir.org/fhir/CodeSystem/' }, []);
      await expectIds(t, 'ValueSet', { 'url:above': `${reviewType}/extra/path` }, ['mtm-review-type']);
      assert.equal((await search(t, 'MedicationStatement', { _profile: 'http://mtm-fhir.org/fhir/StructureDefinition/mtm-medication-statement' })).ids.length, 10);
      await expectIds(t, 'MedicationStatement', { _source: 'http://hospital.example.org/fhir/discharge-feed' }, ['ms-holloway-warfarin']);
    });
  });

  describe('number', () => {
    it('compares with prefixes and the precision of the value', async () => {
      const risk = ['risk-nguyen-readmission'];
      await expectIds(t, 'RiskAssessment', { probability: '0.27' }, risk);
      await expectIds(t, 'RiskAssessment', { probability: '0.3' }, risk); // 0.3 means [0.25, 0.35)
      await expectIds(t, 'RiskAssessment', { probability: '0.30' }, []); // 0.30 means [0.295, 0.305)
      await expectIds(t, 'RiskAssessment', { probability: 'gt0.2' }, risk);
      await expectIds(t, 'RiskAssessment', { probability: 'lt0.27' }, []);
      await expectIds(t, 'RiskAssessment', { probability: 'le0.27' }, risk);
      await expectIds(t, 'RiskAssessment', { probability: 'ne0.27' }, []);
      await expectIds(t, 'RiskAssessment', { probability: 'ap0.25' }, risk);
      await expectBadRequest(t, 'RiskAssessment', { probability: 'gtmany' }, 'probability');
    });
  });

  describe('quantity', () => {
    it('compares values, with or without system and unit', async () => {
      await expectIds(t, 'Observation', { 'value-quantity': `72.5|${UCUM}|kg` }, ['obs-nguyen-weight']);
      await expectIds(t, 'Observation', { 'value-quantity': 'gt70||kg' }, ['obs-nguyen-weight']);
      await expectIds(t, 'Observation', { 'value-quantity': 'gt70' }, ['obs-nguyen-weight', 'obs-rosa-weight']);
      await expectIds(t, 'Observation', { 'value-quantity': `le100|${UCUM}|kg` }, ['obs-nguyen-weight']);
      await expectIds(t, 'Observation', { 'value-quantity': `154|${UCUM}|[lb_av]` }, ['obs-rosa-weight']);
      await expectIds(t, 'Observation', { 'component-value-quantity': `ge140|${UCUM}|mm[Hg]` }, ['obs-nguyen-bp']);
      await expectBadRequest(t, 'Observation', { 'value-quantity': 'zz70||kg' }, 'value-quantity');
    });
  });

  describe('composite', () => {
    it('binds the parts to the same component', async () => {
      await expectIds(t, 'Observation', { 'component-code-value-quantity': 'http://loinc.org|8480-6$gt140' }, ['obs-nguyen-bp']);
      await expectIds(t, 'Observation', { 'component-code-value-quantity': 'http://loinc.org|8462-4$gt140' }, []);
      await expectIds(t, 'Observation', { 'code-value-quantity': `http://loinc.org|29463-7$gt70|${UCUM}|kg` }, ['obs-nguyen-weight']);
      await expectBadRequest(t, 'Observation', { 'code-value-quantity': 'http://loinc.org|29463-7' }, 'code-value-quantity');
    });
  });
});
