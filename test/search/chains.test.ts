import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords, NPI, RXNORM } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, search } from './search-helpers';

const ROSA = ['ms-rosa-lisinopril', 'ms-rosa-metformin', 'ms-rosa-amlodipine', 'ms-rosa-atorvastatin'];
const HOLLOWAY = ['ms-holloway-warfarin', 'ms-holloway-clopidogrel', 'ms-holloway-amlodipine'];
const NGUYEN = ['ms-nguyen-metformin', 'ms-nguyen-acetaminophen', 'ms-nguyen-furosemide'];

describe('Chained parameters and _has', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  describe('chains', () => {
    it('follows a reference to search the resource it points to', async () => {
      await expectIds(t, 'MedicationStatement', { 'subject:Patient.name': 'holloway' }, HOLLOWAY);
      await expectIds(t, 'MedicationStatement', { 'patient.identifier': 'http://hospital.example.org/mrn|MRN-1003' }, NGUYEN);
      await expectIds(t, 'DetectedIssue', { 'implicated:MedicationStatement.code': `${RXNORM}|855332` }, ['di-holloway-bleeding']);
    });

    it('goes two levels deep: statements of the patients whose GP is Dr Chen', async () => {
      await expectIds(t, 'MedicationStatement', { 'patient.general-practitioner.name': 'chen' }, [...ROSA, ...HOLLOWAY]);
      await expectIds(t, 'MedicationStatement', { 'subject:Patient.general-practitioner:Practitioner.identifier': `${NPI}|1114025228` }, NGUYEN);
    });

    it('goes three levels deep: review tasks whose plan addresses an issue about warfarin', async () => {
      await expectIds(t, 'Task', { 'output:CarePlan.patient.name': 'margaret' }, ['task-holloway-cmr']);
      await expectIds(t, 'CarePlan', { 'patient._has:MedicationStatement:subject:code': '855332' }, ['map-holloway']);
    });

    it('combines with other criteria and with comma alternatives at the end of the chain', async () => {
      await expectIds(t, 'MedicationStatement', [['patient.name', 'rosa,walter'], ['status', 'completed']], ['ms-rosa-amlodipine', 'ms-nguyen-metformin', 'ms-nguyen-acetaminophen']);
    });

    it('an unknown parameter at the end of a chain is ignored with a warning, or refused under strict handling', async () => {
      const lenient = await search(t, 'MedicationStatement', { 'subject:Patient.shoe-size': '9' });
      assert.equal(lenient.ids.length, 10);
      assert.match(lenient.warnings.join(' '), /shoe-size/);
      await expectBadRequest(t, 'MedicationStatement', { 'subject:Patient.shoe-size': '9' }, 'subject:Patient.shoe-size', { Prefer: 'handling=strict' });
    });

    it('refuses to chain through a parameter that is not a reference', async () => {
      await expectBadRequest(t, 'MedicationStatement', { 'status.name': 'x' }, 'status.name');
    });
  });

  describe('_has (reverse chaining)', () => {
    it('finds patients by what refers to them', async () => {
      await expectIds(t, 'Patient', { '_has:MedicationStatement:subject:code': `${RXNORM}|855332` }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { '_has:MedicationStatement:subject:status': 'completed' }, ['rosa-alvarez', 'walter-nguyen']);
      await expectIds(t, 'Practitioner', { '_has:Task:owner:status': 'completed' }, ['pharm-okafor']);
    });

    it('nests: patients with a statement implicated in a drug interaction', async () => {
      await expectIds(t, 'Patient', { '_has:MedicationStatement:subject:_has:DetectedIssue:implicated:code': 'DRG' }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { '_has:MedicationStatement:subject:_has:DetectedIssue:implicated:code': 'COMPLY,DOSEH' }, [
        'rosa-alvarez',
        'walter-nguyen',
      ]);
    });

    it('combines with a chain inside: statements on the list of a patient with an MRN', async () => {
      await expectIds(t, 'MedicationStatement', { '_has:List:item:subject:Patient.identifier': 'MRN-1002' }, HOLLOWAY);
    });

    it('refuses a malformed _has', async () => {
      await expectBadRequest(t, 'Patient', { '_has:MedicationStatement:subject': 'x' }, '_has:MedicationStatement:subject');
      await expectBadRequest(t, 'Patient', { '_has:Pharmacist:subject:code': 'x' }, '_has:Pharmacist:subject:code');
      await expectBadRequest(t, 'Patient', { '_has:MedicationStatement:status:code': 'x' }, '_has:MedicationStatement:status:code');
    });
  });
});
