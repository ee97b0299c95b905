/**
 * Patient records shaped the way EHRs export them (US Core Patient, Conditions coded in SNOMED CT,
 * MedicationRequests coded in RxNorm, pharmacy MedicationDispenses, claims as ExplanationOfBenefit),
 * written through the real API.
 */
import type { Condition, ExplanationOfBenefit, MedicationDispense, MedicationRequest, MedicationStatement, Patient, Resource } from '@medplum/fhirtypes';
import { createResource, type TestServer } from '../helpers/test-server';

export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const SNOMED = 'http://snomed.info/sct';

export interface Drug {
  code?: string;
  display: string;
}

/** RxNorm clinical drugs (codes and displays as the VSAC expansions in profiles/ list them). */
export const DRUGS = {
  atorvastatin: { code: '617310', display: 'atorvastatin 20 MG Oral Tablet' },
  simvastatin: { code: '312961', display: 'simvastatin 20 MG Oral Tablet' },
  lisinopril: { code: '314076', display: 'lisinopril 10 MG Oral Tablet' },
  losartan: { code: '979492', display: 'losartan potassium 50 MG Oral Tablet' },
  metformin: { code: '861007', display: 'metformin hydrochloride 500 MG Oral Tablet' },
  amlodipine: { code: '197361', display: 'amlodipine 5 MG Oral Tablet' },
  furosemide: { code: '310429', display: 'furosemide 20 MG Oral Tablet' },
  levothyroxine: { code: '966222', display: 'levothyroxine sodium 0.05 MG Oral Tablet' },
  acetaminophen: { code: '313782', display: 'acetaminophen 325 MG Oral Tablet' },
  oxycodoneApap: { code: '1049221', display: 'acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet' },
  diazepam: { code: '197591', display: 'diazepam 5 MG Oral Tablet' },
  sertraline: { code: '312938', display: 'sertraline 100 MG Oral Tablet' },
  phenelzine: { code: '312347', display: 'phenelzine 15 MG Oral Tablet' },
  amitriptyline: { code: '856834', display: 'amitriptyline hydrochloride 25 MG Oral Tablet' },
  hydroxyzine: { code: '995258', display: 'hydroxyzine hydrochloride 25 MG Oral Tablet' },
  glyburide: { code: '197737', display: 'glyburide 1.25 MG Oral Tablet' },
} satisfies Record<string, Drug>;

/** A birth date that makes the patient `age` years old today (a day's margin either side of the birthday). */
export function birthDateForAge(age: number): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - age);
  d.setUTCDate(d.getUTCDate() - 2);
  return d.toISOString().slice(0, 10);
}

export async function usCorePatient(t: TestServer, age: number | undefined, family = 'Rivera'): Promise<Patient & { id: string }> {
  return createResource<Patient>(t, {
    resourceType: 'Patient',
    identifier: [{ system: 'http://hospital.example.org/mrn', value: `MRN-${family}-${Math.random().toString(36).slice(2, 8)}` }],
    active: true,
    name: [{ use: 'official', family, given: ['Ana'] }],
    telecom: [{ system: 'phone', value: '555-0100', use: 'home' }],
    gender: 'female',
    ...(age !== undefined ? { birthDate: birthDateForAge(age) } : {}),
    address: [{ line: ['1 Main St'], city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' }],
  });
}

export function snomedCondition(patientId: string, code: string, display: string, active = true): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: active ? 'active' : 'resolved' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
    code: { coding: [{ system: SNOMED, code, display }], text: display },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: '2019-04-01',
    recordedDate: '2019-04-01',
  };
}

const concept = (drug: Drug) => (drug.code ? { coding: [{ system: RXNORM, code: drug.code, display: drug.display }], text: drug.display } : { text: drug.display });

export function medicationRequest(patientId: string, drug: Drug, status: MedicationRequest['status'] = 'active'): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status,
    intent: 'order',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'community' }] }],
    medicationCodeableConcept: concept(drug),
    subject: { reference: `Patient/${patientId}` },
    authoredOn: '2026-01-15',
    requester: { display: 'Dr. Lee' },
    dosageInstruction: [{ text: 'Take 1 tablet by mouth daily' }],
  };
}

export function medicationDispense(patientId: string, drug: Drug, handedOverDaysAgo: number, daysSupply = 30): MedicationDispense {
  return {
    resourceType: 'MedicationDispense',
    status: 'completed',
    medicationCodeableConcept: concept(drug),
    subject: { reference: `Patient/${patientId}` },
    quantity: { value: 30 },
    daysSupply: { value: daysSupply, unit: 'day', system: 'http://unitsofmeasure.org', code: 'd' },
    whenHandedOver: new Date(Date.now() - handedOverDaysAgo * 86_400_000).toISOString(),
  };
}

/** A statement as a pharmacist records it (our MTM profile wants a coding, a dose, a reason and a period). */
export function medicationStatement(patientId: string, drug: Drug, extra: Partial<MedicationStatement> = {}): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: drug.code ? concept(drug) : { coding: [{ display: drug.display }], text: drug.display },
    subject: { reference: `Patient/${patientId}` },
    effectivePeriod: { start: '2026-01-15' },
    dosage: [{ text: 'Take 1 tablet by mouth daily' }],
    reasonCode: [{ text: 'As prescribed' }],
    dateAsserted: '2026-02-01',
    informationSource: { reference: `Patient/${patientId}` },
    ...extra,
  };
}

export function pharmacyClaim(patientId: string, date: string, submitted: number): ExplanationOfBenefit {
  return {
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'pharmacy' }] },
    use: 'claim',
    patient: { reference: `Patient/${patientId}` },
    billablePeriod: { start: date, end: date },
    created: `${date}T10:00:00Z`,
    insurer: { display: 'Example Part D plan' },
    provider: { display: 'Example Pharmacy' },
    outcome: 'complete',
    insurance: [{ focal: true, coverage: { display: 'Part D coverage' } }],
    total: [{ category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication', code: 'submitted' }] }, amount: { value: submitted, currency: 'USD' } }],
  };
}

export async function createAll(t: TestServer, resources: Resource[]): Promise<Array<Resource & { id: string }>> {
  const created: Array<Resource & { id: string }> = [];
  for (const r of resources) created.push(await createResource(t, r));
  return created;
}
