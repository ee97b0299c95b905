import assert from 'node:assert/strict';
import type { MedicationStatement } from '@medplum/fhirtypes';
import { compareMedicationLists, summarise } from '../../src/mtm/reconciliation/compare';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

function statement(id: string, code: string | undefined, text: string, dose?: number, perDay?: number): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    id,
    status: 'active',
    subject: { reference: 'Patient/p' },
    medicationCodeableConcept: { coding: code ? [{ system: RXNORM, code, display: text }] : undefined, text },
    dosage: [
      {
        text: `${dose ?? ''} mg ${perDay ?? ''} times a day`,
        doseAndRate: dose !== undefined ? [{ doseQuantity: { value: dose, unit: 'mg' } }] : undefined,
        timing: perDay !== undefined ? { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } } : undefined,
      },
    ],
  };
}

describe('Medication list comparison', () => {
  it('matches by RxNorm code and reports unchanged, changed dose, changed frequency, new and ceased', () => {
    const current = [
      statement('c1', '314076', 'lisinopril 10 MG Oral Tablet', 10, 1),
      statement('c2', '860975', 'metformin 500 MG Extended Release Oral Tablet', 500, 1),
      statement('c3', '617312', 'atorvastatin 10 MG Oral Tablet', 10, 1),
      statement('c4', '197361', 'amlodipine 5 MG Oral Tablet', 5, 1),
    ];
    const submitted = [
      statement('s1', '314076', 'lisinopril 10 MG Oral Tablet', 20, 1),
      statement('s2', '860975', 'metformin 500 MG Extended Release Oral Tablet', 500, 2),
      statement('s3', '617312', 'atorvastatin 10 MG Oral Tablet', 10, 1),
      statement('s4', '855332', 'warfarin sodium 5 MG Oral Tablet', 5, 1),
    ];
    const items = compareMedicationLists(current, submitted);
    const byMedication = Object.fromEntries(items.map((i) => [i.medication, i]));
    assert.equal(byMedication['lisinopril 10 MG Oral Tablet'].outcome, 'changed');
    assert.deepEqual(byMedication['lisinopril 10 MG Oral Tablet'].differences, ['dose 10 mg -> 20 mg']);
    assert.deepEqual(byMedication['metformin 500 MG Extended Release Oral Tablet'].differences, ['frequency 1 per 1 d -> 2 per 1 d']);
    assert.equal(byMedication['atorvastatin 10 MG Oral Tablet'].outcome, 'unchanged');
    assert.equal(byMedication['warfarin sodium 5 MG Oral Tablet'].outcome, 'new');
    assert.equal(byMedication['amlodipine 5 MG Oral Tablet'].outcome, 'ceased');
    assert.equal(byMedication['amlodipine 5 MG Oral Tablet'].current?.id, 'c4');
    assert.deepEqual(summarise(items), { unchanged: 1, changed: 2, new: 1, ceased: 1 });
  });

  it('falls back to the normalised name when a statement has no RxNorm code', () => {
    const current = [statement('c1', '310965', 'Ibuprofen 200 MG Oral Tablet', 200, 3)];
    const submitted = [statement('s1', undefined, '  ibuprofen 200 mg   oral tablet ', 200, 3)];
    const [item] = compareMedicationLists(current, submitted);
    assert.equal(item.outcome, 'unchanged');
    assert.equal(item.current?.id, 'c1');
  });

  it('matches each held statement at most once when a medicine appears twice', () => {
    const current = [statement('c1', '314076', 'lisinopril', 10, 1)];
    const submitted = [statement('s1', '314076', 'lisinopril', 10, 1), statement('s2', '314076', 'lisinopril', 10, 1)];
    assert.deepEqual(compareMedicationLists(current, submitted).map((i) => i.outcome), ['unchanged', 'new']);
  });
});
