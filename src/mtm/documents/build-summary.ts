/**
 * Fills the CMS Standardized Format from a CMR's stored record. Where each field comes from:
 * - cover letter: the patient's name and home address, the CMR's date (Task.executionPeriod.start),
 *   the pharmacist (Task.owner) with credentials (name suffix), phone and hours (PractitionerRole,
 *   then its Organization, then the Practitioner), the plan (active Coverage: its plan class, else
 *   its payor);
 * - Medication Action Plan: CarePlan.created, one item per activity (code = what we talked about,
 *   description and schedule = what I need to do, progress = what I did), CarePlan.note = follow-up;
 * - Personal Medication List: List.date, AllergyIntolerance records and List notes that begin with
 *   "Allergies or side effects:", one entry per listed MedicationStatement, other List notes.
 */
import type { CarePlanActivity, CodeableConcept, Condition, List, Observation, Patient } from '@medplum/fhirtypes';
import type { CmrRecord, MedicineRecord } from './cmr-record';
import { addressLines, annotationText, conceptText, hours, longDate, personName, phone, referenceDisplay, sentence } from './display';
import type { ActionPlanItem, MedicineEntry, WrittenSummary } from './standardized-format';

const ALLERGY_NOTE = /^\s*allergies or side effects\s*:\s*/i;

function language(patient: Patient | undefined): string {
  const preferred = patient?.communication?.find((c) => c.preferred) ?? patient?.communication?.[0];
  const code = preferred?.language?.coding?.find((c) => c.system === 'urn:ietf:bcp:47')?.code;
  // The summary is written in English; a preferred English variant is kept for screen readers.
  return code && /^en(-[A-Za-z]{2})?$/.test(code) ? code : 'en-US';
}

function homeAddress(patient: Patient | undefined) {
  const current = (patient?.address ?? []).filter((a) => !a.period?.end && a.use !== 'old');
  return current.find((a) => a.use === 'home') ?? current[0];
}

function providerContact(record: CmrRecord): string | undefined {
  const role = record.owner?.resourceType === 'PractitionerRole' ? record.owner : undefined;
  const number = phone(role?.telecom) ?? phone(record.organization?.telecom) ?? phone(record.pharmacist?.telecom);
  if (!number) return undefined;
  const open = hours(role?.availableTime);
  return open ? `${number} (${open})` : number;
}

function planName(record: CmrRecord): string | undefined {
  const planClass = record.coverage?.class?.find((c) => c.type?.coding?.some((k) => k.code === 'plan'));
  return planClass?.name ?? record.payor?.name ?? referenceDisplay(record.coverage?.payor?.[0]);
}

function actionItem(activity: CarePlanActivity): ActionPlanItem {
  const detail = activity.detail;
  const talkedAbout = conceptText(detail?.code) ?? referenceDisplay(activity.reference);
  const when = detail?.scheduledString?.trim();
  const needToDo = [detail?.description?.trim(), when ? `When: ${when}.` : undefined].filter(Boolean).join(' ') || undefined;
  const done = (activity.progress ?? []).map(annotationText).filter((t): t is string => !!t);
  return { talkedAbout, needToDo, done };
}

function medicineName(m: MedicineRecord): string | undefined {
  return conceptText(m.statement.medicationCodeableConcept) ?? conceptText(m.medication?.code) ?? referenceDisplay(m.statement.medicationReference);
}

function reasonText(m: MedicineRecord): string | undefined {
  const fromCodes = (m.statement.reasonCode ?? []).map((c: CodeableConcept) => conceptText(c));
  const fromResources = m.reasons.map((r: Condition | Observation) => conceptText(r.code));
  const fromDisplays = m.reasons.length ? [] : (m.statement.reasonReference ?? []).map(referenceDisplay);
  const texts = [...new Set([...fromCodes, ...fromResources, ...fromDisplays].filter((t): t is string => !!t))];
  return texts.length ? texts.join('; ') : undefined;
}

function prescriberText(m: MedicineRecord): string | undefined {
  const names = m.prescribers.map(({ request, requester, practitioner }) => {
    if (practitioner) return personName(practitioner.name, { suffix: true });
    if (requester?.resourceType === 'Practitioner') return personName(requester.name, { suffix: true });
    if (requester?.resourceType === 'Organization') return requester.name;
    return referenceDisplay(request.requester);
  });
  const texts = [...new Set(names.filter((t): t is string => !!t))];
  return texts.length ? texts.join('; ') : undefined;
}

function howToUse(m: MedicineRecord): string | undefined {
  const texts = (m.statement.dosage ?? []).map((d) => d.text?.trim() || d.patientInstruction?.trim()).filter((t): t is string => !!t);
  return texts.length ? texts.join(' ') : undefined;
}

function medicineEntry(m: MedicineRecord): MedicineEntry {
  const s = m.statement;
  const stopped = s.status === 'stopped' || s.status === 'completed';
  return {
    medicine: medicineName(m),
    howIUseIt: howToUse(m),
    whyIUseIt: reasonText(m),
    prescriber: prescriberText(m),
    dateStarted: longDate(s.effectivePeriod?.start),
    dateStopped: longDate(s.effectivePeriod?.end),
    whyStopped: stopped ? conceptText(s.statusReason?.[0]) : undefined,
  };
}

function allergyLines(record: CmrRecord, list: List | undefined): string[] {
  const recorded = record.allergies.map((a) => {
    const substance = conceptText(a.code) ?? 'Unnamed substance';
    const reactions = (a.reaction ?? []).flatMap((r) => (r.manifestation ?? []).map(conceptText)).filter(Boolean);
    return reactions.length ? `${substance}: ${reactions.join(', ')}` : substance;
  });
  const noted = (list?.note ?? []).filter((n) => ALLERGY_NOTE.test(n.text ?? '')).map((n) => sentence((n.text ?? '').replace(ALLERGY_NOTE, '').trim()));
  return [...recorded, ...noted].filter(Boolean);
}

export function buildWrittenSummary(record: CmrRecord, today: string): WrittenSummary {
  const { patient, actionPlan, medicationList, pharmacist, task } = record;
  const name = personName(patient?.name);
  const homeLines = addressLines(homeAddress(patient));
  return {
    language: language(patient),
    patient: { name, birthDate: longDate(patient?.birthDate), address: homeLines },
    letter: {
      date: longDate(today) ?? today,
      serviceDate: longDate(task.executionPeriod?.start),
      providerName: personName(pharmacist?.name, { suffix: true }) ?? referenceDisplay(task.owner),
      providerContact: providerContact(record),
      planName: planName(record),
    },
    actionPlan: {
      datePrepared: longDate(actionPlan?.created),
      items: (actionPlan?.activity ?? []).map(actionItem),
      followUp: (actionPlan?.note ?? []).map(annotationText).filter((t): t is string => !!t),
      questions: [],
    },
    medicationList: {
      datePrepared: longDate(medicationList?.date),
      allergies: allergyLines(record, medicationList),
      medicines: record.medicines.map(medicineEntry),
      otherInformation: (medicationList?.note ?? [])
        .filter((n) => !ALLERGY_NOTE.test(n.text ?? ''))
        .map(annotationText)
        .filter((t): t is string => !!t),
    },
  };
}
