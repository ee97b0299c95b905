/**
 * Everything the written summary of a completed CMR is made from, read from storage: the CMR Task,
 * its patient, the pharmacist, the Medication Action Plan and Personal Medication List it produced,
 * and for each medicine what it is, why it is taken and who prescribed it. What is not recorded is
 * left undefined; nothing is guessed.
 */
import type {
  AllergyIntolerance,
  CarePlan,
  Condition,
  Coverage,
  List,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { conflict, unprocessable } from '../../fhir/outcome';
import type { RequestContext } from '../../interactions/types';
import { isCmr, REVIEW_PARAMETER_SYSTEM } from '../lifecycle/codes';
import { REVIEW_TYPE_SYSTEM } from '../review-codes';
import { readTarget, resolve } from './references';

export interface MedicineRecord {
  statement: MedicationStatement;
  medication?: Medication;
  reasons: Array<Condition | Observation>;
  prescribers: Array<{ request: MedicationRequest; requester?: Practitioner | PractitionerRole | Organization; practitioner?: Practitioner }>;
}

export interface CmrRecord {
  task: Task & { id: string };
  patient?: Patient;
  owner?: Practitioner | PractitionerRole;
  /** The pharmacist: the owner itself, or the practitioner of the owner PractitionerRole. */
  pharmacist?: Practitioner;
  organization?: Organization;
  actionPlan?: CarePlan;
  medicationList?: List;
  medicines: MedicineRecord[];
  allergies: AllergyIntolerance[];
  coverage?: Coverage;
  payor?: Organization;
}

export function outputReference(task: Task, code: string) {
  return task.output?.find((o) => o.type?.coding?.some((c) => c.system === REVIEW_PARAMETER_SYSTEM && c.code === code))?.valueReference;
}

/** The CMR Task, checked: a CMR (422 otherwise) that is completed (409 otherwise). */
export async function readCompletedCmr(ctx: RequestContext, taskId: string): Promise<Task & { id: string }> {
  const task = await readTarget<Task>(ctx, 'Task', taskId);
  if (!isCmr(task)) throw unprocessable(`Task/${taskId} is not a comprehensive medication review (code ${REVIEW_TYPE_SYSTEM}|cmr)`, 'Task.code');
  if (task.status !== 'completed') {
    throw conflict(`Task/${taskId} is ${task.status}: the written summary is made once the CMR is completed`, 'Task.status');
  }
  return task;
}

async function readMedicine(ctx: RequestContext, statement: MedicationStatement): Promise<MedicineRecord> {
  const medication = await resolve<Medication>(ctx, statement.medicationReference, ['Medication']);
  const reasons = (await Promise.all((statement.reasonReference ?? []).map((r) => resolve<Condition | Observation>(ctx, r, ['Condition', 'Observation'])))).filter(
    (r): r is Condition | Observation => !!r,
  );
  const prescribers: MedicineRecord['prescribers'] = [];
  for (const basedOn of statement.basedOn ?? []) {
    const request = await resolve<MedicationRequest>(ctx, basedOn, ['MedicationRequest']);
    if (!request) continue;
    const requester = await resolve<Practitioner | PractitionerRole | Organization>(ctx, request.requester, ['Practitioner', 'PractitionerRole', 'Organization']);
    const practitioner = requester?.resourceType === 'PractitionerRole' ? await resolve<Practitioner>(ctx, requester.practitioner, ['Practitioner']) : undefined;
    prescribers.push({ request, requester, practitioner });
  }
  return { statement, medication, reasons, prescribers };
}

async function readMedicines(ctx: RequestContext, list: List | undefined): Promise<MedicineRecord[]> {
  const statements: MedicationStatement[] = [];
  for (const entry of list?.entry ?? []) {
    if (entry.deleted) continue;
    const statement = await resolve<MedicationStatement>(ctx, entry.item, ['MedicationStatement']);
    if (statement) statements.push(statement);
  }
  return Promise.all(statements.map((s) => readMedicine(ctx, s)));
}

/** Resources of the patient found by a search, that the caller may read. */
async function patientResources<T extends Resource>(ctx: RequestContext, type: T['resourceType'], query: Array<[string, string]>): Promise<T[]> {
  const search = ctx.services.search;
  if (!search) return [];
  const found = (await search.findMatches(type, query, { limit: 100 })) as T[];
  const allowed = await Promise.all(found.map((r) => ctx.services.access.mayAccess(ctx.security, r, 'r')));
  return found.filter((_, i) => allowed[i]);
}

function isCurrentAllergy(a: AllergyIntolerance): boolean {
  const clinical = a.clinicalStatus?.coding?.map((c) => c.code) ?? [];
  const verification = a.verificationStatus?.coding?.map((c) => c.code) ?? [];
  return !clinical.some((c) => c === 'inactive' || c === 'resolved') && !verification.some((c) => c === 'refuted' || c === 'entered-in-error');
}

export async function readCmrRecord(ctx: RequestContext, task: Task & { id: string }): Promise<CmrRecord> {
  const patient = await resolve<Patient>(ctx, task.for, ['Patient']);
  const owner = await resolve<Practitioner | PractitionerRole>(ctx, task.owner, ['Practitioner', 'PractitionerRole']);
  const pharmacist = owner?.resourceType === 'PractitionerRole' ? await resolve<Practitioner>(ctx, owner.practitioner, ['Practitioner']) : owner;
  const organization = owner?.resourceType === 'PractitionerRole' ? await resolve<Organization>(ctx, owner.organization, ['Organization']) : undefined;
  const actionPlan = await resolve<CarePlan>(ctx, outputReference(task, 'medication-action-plan'), ['CarePlan']);
  const medicationList = await resolve<List>(ctx, outputReference(task, 'personal-medication-list'), ['List']);
  const medicines = await readMedicines(ctx, medicationList);
  const patientRef = patient?.id ? `Patient/${patient.id}` : undefined;
  const allergies = patientRef ? (await patientResources<AllergyIntolerance>(ctx, 'AllergyIntolerance', [['patient', patientRef]])).filter(isCurrentAllergy) : [];
  const coverages = patientRef ? await patientResources<Coverage>(ctx, 'Coverage', [['beneficiary', patientRef], ['status', 'active']]) : [];
  const coverage = coverages[0];
  const payor = coverage ? await resolve<Organization>(ctx, coverage.payor?.[0], ['Organization']) : undefined;
  return { task, patient, owner, pharmacist, organization, actionPlan, medicationList, medicines, allergies, coverage, payor };
}
