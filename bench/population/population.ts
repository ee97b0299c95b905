/**
 * Deterministic synthetic MTM population. Each patient has a current medication List of 5-15
 * MedicationStatements, 0-3 DetectedIssues, a Medication Action Plan (CarePlan, SNOMED 736378000)
 * when at least one issue was found (the MAP profile requires supportingInfo 1..*), and 1-3 review
 * Tasks. Every resource is shaped to pass the MTM profiles in profiles/ (see bench/README.md).
 *
 * The same seed gives the same resources, ids included, in every process.
 */
import type {
  CarePlan,
  DetectedIssue,
  List,
  MedicationStatement,
  Patient,
  Practitioner,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { CODE_SYSTEM, MAP_CATEGORY_CODE, PROFILE, SYSTEM } from '../../src/conformance/canonical';
import { Prng, zipfCumulative } from './prng';
import { FAMILY_NAMES, GIVEN_NAMES, ISSUE_TYPES, MEDICINES, MITIGATIONS, type Medicine } from './vocabulary';

export const DEFAULT_SEED = 20240601;
/** Patients per pharmacist: the practitioner pool grows with the population. */
const PATIENTS_PER_PHARMACIST = 200;
const DAY = 86_400_000;
/** Every date is an offset from this instant, never from the clock, so runs are reproducible. */
const EPOCH = Date.UTC(2024, 0, 1);

const MED_WEIGHTS = zipfCumulative(MEDICINES.length);

/** Everything one patient has, plus the ids the workloads need. */
export interface PatientRecord {
  patientId: string;
  resources: Resource[];
  medicationStatementIds: string[];
  /** Set when the patient has an active MAP. */
  carePlanId?: string;
}

const day = (offset: number): string => new Date(EPOCH + offset * DAY).toISOString().slice(0, 10);
const instant = (offset: number, hour: number): string => new Date(EPOCH + offset * DAY + hour * 3_600_000).toISOString();

export function practitionerId(n: number): string {
  return `pharm-${n}`;
}

export function practitionerCount(patients: number): number {
  return Math.max(5, Math.ceil(patients / PATIENTS_PER_PHARMACIST));
}

export function practitioners(patients: number): Practitioner[] {
  const result: Practitioner[] = [];
  for (let n = 0; n < practitionerCount(patients); n++) {
    result.push({
      resourceType: 'Practitioner',
      id: practitionerId(n),
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1000000000 + n * 7) }],
      name: [{ family: FAMILY_NAMES[n % FAMILY_NAMES.length], given: [GIVEN_NAMES[(n * 3) % GIVEN_NAMES.length]], suffix: ['PharmD'] }],
    });
  }
  return result;
}

/** A MedicationStatement valid against the MTM profile. Exported for the create workload. */
export function medicationStatement(id: string | undefined, patientId: string, medicine: Medicine, started: number, status: 'active' | 'completed'): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    ...(id ? { id } : {}),
    meta: { profile: [PROFILE.medicationStatement] },
    status,
    medicationCodeableConcept: {
      coding: [{ system: SYSTEM.rxnorm, code: medicine.rxnorm, display: medicine.display }],
      text: medicine.display,
    },
    subject: { reference: `Patient/${patientId}` },
    effectivePeriod: status === 'completed' ? { start: day(started), end: day(started + 30) } : { start: day(started) },
    dateAsserted: instant(started + 2, 14),
    informationSource: { reference: `Patient/${patientId}` },
    reasonCode: [{ coding: [{ system: SYSTEM.snomed, code: medicine.reasonCode, display: medicine.reason }], text: medicine.reason }],
    dosage: [{ text: medicine.dosage }],
  };
}

export function pickMedicine(rng: Prng): Medicine {
  return rng.pickSkewed(MEDICINES, MED_WEIGHTS);
}

/** Generates patient number `n` (0-based). Independent of every other patient, so any range can be generated. */
export function generatePatient(n: number, patients: number, seed = DEFAULT_SEED): PatientRecord {
  const rng = new Prng(seed ^ Math.imul(n + 1, 0x9e3779b1));
  const patientId = `pt-${n}`;
  const subject = { reference: `Patient/${patientId}` };
  const pharmacist = { reference: `Practitioner/${practitionerId(n % practitionerCount(patients))}` };
  const resources: Resource[] = [];

  const patient: Patient = {
    resourceType: 'Patient',
    id: patientId,
    identifier: [{ system: 'http://mtm-fhir.org/fhir/sid/member-id', value: `M${String(n).padStart(9, '0')}` }],
    name: [{ family: rng.pick(FAMILY_NAMES), given: [rng.pick(GIVEN_NAMES)] }],
    gender: rng.chance(0.55) ? 'female' : 'male',
    birthDate: day(-rng.int(65 * 365, 90 * 365)),
  };
  resources.push(patient);

  const statements: MedicationStatement[] = [];
  const used = new Set<string>();
  const count = rng.int(5, 15);
  while (statements.length < count) {
    const medicine = pickMedicine(rng);
    if (used.has(medicine.rxnorm)) continue;
    used.add(medicine.rxnorm);
    const status = rng.chance(0.85) ? 'active' : 'completed';
    statements.push(medicationStatement(`ms-${n}-${statements.length}`, patientId, medicine, rng.int(0, 500), status));
  }
  resources.push(...statements);

  const listDate = rng.int(500, 600);
  const list: List = {
    resourceType: 'List',
    id: `list-${n}`,
    meta: { profile: [PROFILE.medicationList] },
    status: 'current',
    mode: 'working',
    title: 'Personal Medication List',
    code: { coding: [{ system: SYSTEM.v3ActCode, code: 'CURMEDLIST', display: 'current medication list' }] },
    subject,
    source: pharmacist,
    date: instant(listDate, 10),
    entry: statements.map((s) => ({ item: { reference: `MedicationStatement/${s.id}` } })),
  };
  resources.push(list);

  const issues: DetectedIssue[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    const type = rng.pick(ISSUE_TYPES);
    const implicated = rng.pick(statements);
    const mitigation = rng.pick(MITIGATIONS);
    issues.push({
      resourceType: 'DetectedIssue',
      id: `di-${n}-${issues.length}`,
      meta: { profile: [PROFILE.detectedIssue] },
      status: 'final',
      code: { coding: [{ system: SYSTEM.v3ActCode, code: type.code, display: type.display }] },
      severity: rng.pick(['high', 'moderate', 'low'] as const),
      patient: subject,
      author: pharmacist,
      identifiedDateTime: instant(listDate, 11),
      implicated: [{ reference: `MedicationStatement/${implicated.id}` }],
      detail: type.detail,
      mitigation: [{ action: { coding: [{ system: SYSTEM.v3ActCode, code: mitigation.code, display: mitigation.display }] }, date: instant(listDate, 12) }],
    });
  }
  resources.push(...issues);

  let carePlanId: string | undefined;
  if (issues.length > 0) {
    carePlanId = `map-${n}`;
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      id: carePlanId,
      meta: { profile: [PROFILE.medicationActionPlan] },
      status: 'active',
      intent: 'plan',
      category: [{ coding: [{ system: SYSTEM.snomed, code: MAP_CATEGORY_CODE, display: 'Medication management plan (record artifact)' }] }],
      title: 'Medication Action Plan',
      subject,
      author: pharmacist,
      created: instant(listDate, 12),
      period: { start: day(listDate) },
      supportingInfo: issues.map((i) => ({ reference: `DetectedIssue/${i.id}` })),
      activity: issues.map((i) => ({
        detail: { status: 'in-progress', description: `What we talked about: ${i.detail} What I need to do: follow the plan agreed with my pharmacist.` },
      })),
    };
    resources.push(plan);
  }

  const taskCount = rng.int(1, 3);
  for (let t = 0; t < taskCount; t++) {
    // The first review of a patient with a MAP is the completed CMR that produced it.
    const cmrDone = t === 0 && carePlanId !== undefined;
    const code = cmrDone ? 'cmr' : rng.pick(['cmr', 'tmr', 'post-discharge-review']);
    const status = cmrDone ? 'completed' : code === 'cmr' ? 'requested' : rng.pick(['completed', 'requested', 'in-progress'] as const);
    const start = listDate + rng.int(-30, 30);
    const task: Task = {
      resourceType: 'Task',
      id: `task-${n}-${t}`,
      meta: { profile: [PROFILE.reviewTask] },
      status,
      intent: 'plan',
      code: { coding: [{ system: CODE_SYSTEM.reviewType, code }] },
      for: subject,
      authoredOn: instant(start - 7, 9),
      ...(status !== 'requested' ? { owner: pharmacist } : {}),
      ...(status === 'completed' ? { executionPeriod: { start: instant(start, 15), end: instant(start, 16) } } : {}),
    };
    if (cmrDone) {
      task.input = [
        {
          type: { coding: [{ system: CODE_SYSTEM.reviewParameter, code: 'delivery-method' }] },
          valueCodeableConcept: { coding: [{ system: CODE_SYSTEM.cmrDeliveryMethod, code: rng.pick(['01', '02', '03']) }] },
        },
      ];
      task.output = [
        { type: { coding: [{ system: CODE_SYSTEM.reviewParameter, code: 'medication-action-plan' }] }, valueReference: { reference: `CarePlan/${carePlanId}` } },
        { type: { coding: [{ system: CODE_SYSTEM.reviewParameter, code: 'personal-medication-list' }] }, valueReference: { reference: `List/${list.id}` } },
      ];
    }
    resources.push(task);
  }

  return { patientId, resources, medicationStatementIds: statements.map((s) => s.id as string), carePlanId };
}

/** Patients needed for roughly `target` resources (about 16 per patient). */
export function patientsForResources(target: number): number {
  return Math.max(1, Math.round(target / 16.2));
}

export interface Population {
  patients: number;
  /** Practitioners first, then every patient's resources in patient order. */
  resources(): Generator<Resource>;
}

export function population(patients: number, seed = DEFAULT_SEED): Population {
  return {
    patients,
    *resources() {
      yield* practitioners(patients);
      for (let n = 0; n < patients; n++) yield* generatePatient(n, patients, seed).resources;
    },
  };
}
