/**
 * One beneficiary's record of the CMS Part D MTM beneficiary-level report (the data elements listed in
 * ../shared/notes/mtm-standards.md), each value with the resources it came from, and the
 * inconsistencies found on the way: reported as issues, never as silent blanks.
 */
import type { Coding, EpisodeOfCare, Practitioner, Task } from '@medplum/fhirtypes';
import { localDate } from '../lifecycle/calendar';
import { isCmr, isTmr, REVIEW_PARAMETER_SYSTEM } from '../lifecycle/codes';
import { countInterventions } from '../interventions/counts';
import { type PatientPeriodData, type PeriodData, referenceKey } from './period-data';

export const OPT_OUT_EXTENSION = 'http://mtm-fhir.org/fhir/StructureDefinition/mtm-opt-out-reason';
const MBI_SYSTEM = 'http://hl7.org/fhir/sid/us-mbi';

export interface Sourced<T> {
  value: T | null;
  /** "Type/id" of every resource the value was computed from. */
  from: string[];
}

export interface PartDRecord {
  beneficiary: Sourced<string>;
  mbi: Sourced<string>;
  name: Sourced<string>;
  birthDate: Sourced<string>;
  metTargetingCriteria: Sourced<'Y' | 'N'>;
  targetingDate: Sourced<string>;
  enrollmentDate: Sourced<string>;
  optOutDate: Sourced<string>;
  optOutReason: Sourced<string>;
  cmrOffered: Sourced<'Y' | 'N'>;
  cmrOfferDate: Sourced<string>;
  cmrReceived: Sourced<'Y' | 'N'>;
  cmrDates: Sourced<string[]>;
  deliveryMethod: Sourced<string>;
  providerType: Sourced<string>;
  recipient: Sourced<string>;
  summarySentDate: Sourced<string>;
  tmrCount: Sourced<number>;
  recommendations: Sourced<number>;
  changes: Sourced<number>;
  issues: string[];
}

const ref = (r: { resourceType: string; id?: string }) => `${r.resourceType}/${r.id}`;
const sourced = <T>(value: T | null | undefined, from: string[] = []): Sourced<T> => ({ value: value ?? null, from });
const day = (dateTime: string | undefined) => (dateTime ? localDate(dateTime) : undefined);
const inPeriod = (date: string | undefined, period: { start: string; end: string }) => !!date && date >= period.start && date <= period.end;
const reviewDay = (t: Task) => day(t.executionPeriod?.start);
const NOT_AN_OFFER: readonly Task['status'][] = ['draft', 'cancelled', 'entered-in-error'];

/** The CMRs a beneficiary received in the period: completed, on a day in the period (the Part D report and the PQA measure agree on it). */
export function cmrsReceived(row: PatientPeriodData, period: { start: string; end: string }): (Task & { id: string })[] {
  return row.reviews
    .filter((t) => isCmr(t) && t.status === 'completed' && inPeriod(reviewDay(t), period))
    .sort((a, b) => (reviewDay(a) ?? '').localeCompare(reviewDay(b) ?? ''));
}

function input(task: Task, code: string) {
  return task.input?.find((i) => i.type?.coding?.some((c) => c.system === REVIEW_PARAMETER_SYSTEM && c.code === code));
}

/** The enrolment the record reports: the latest one overlapping the period. */
function reportedEpisode(episodes: EpisodeOfCare[], issues: string[]): EpisodeOfCare | undefined {
  const sorted = [...episodes].sort((a, b) => (a.period?.start ?? '').localeCompare(b.period?.start ?? ''));
  for (let i = 1; i < sorted.length; i++) {
    const previousEnd = sorted[i - 1].period?.end;
    if (!previousEnd || previousEnd > (sorted[i].period?.start ?? '')) {
      issues.push(`Enrolments ${ref(sorted[i - 1] as EpisodeOfCare & { id: string })} and ${ref(sorted[i] as EpisodeOfCare & { id: string })} overlap`);
    }
  }
  return sorted.at(-1);
}

function optOut(episode: EpisodeOfCare, issues: string[]): { date?: string; reason?: Coding } {
  const date = day(episode.period?.end);
  const reason = episode.extension?.find((e) => e.url === OPT_OUT_EXTENSION)?.valueCoding;
  const id = ref(episode as EpisodeOfCare & { id: string });
  if (date && !reason) issues.push(`${id} ended on ${date} without an opt-out reason`);
  if (reason && !date) issues.push(`${id} has an opt-out reason (${reason.code}) but no opt-out date`);
  if (date && episode.period?.start && date < day(episode.period.start)!) issues.push(`${id} ends (${date}) before it starts (${day(episode.period.start)})`);
  return { date, reason };
}

function recipientKind(reference: string | undefined): string | undefined {
  const type = /(?:^|\/)([A-Z][A-Za-z]+)\/[^/]+$/.exec(reference ?? '')?.[1];
  switch (type) {
    case 'Patient':
      return 'beneficiary';
    case 'RelatedPerson':
      return 'caregiver or other authorized individual';
    case 'Practitioner':
    case 'PractitionerRole':
      return 'prescriber or other health care provider';
    default:
      return undefined;
  }
}

function providerType(practitioner: Practitioner | undefined): string | undefined {
  const qualification = practitioner?.qualification?.[0]?.code;
  return qualification?.text ?? qualification?.coding?.[0]?.display ?? qualification?.coding?.[0]?.code;
}

export function partDRecord(row: PatientPeriodData, data: PeriodData): PartDRecord {
  const { period } = data;
  const issues: string[] = [];
  const patientRef = ref(row.patient);
  const mbi = row.patient.identifier?.find((i) => i.system === MBI_SYSTEM)?.value;
  const name = row.patient.name?.[0];
  const nameText = name ? name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ') : undefined;

  const episode = reportedEpisode(row.episodes, issues);
  const episodeRef = episode ? [ref(episode as EpisodeOfCare & { id: string })] : [];
  const enrolled = day(episode?.period?.start);
  const out = episode ? optOut(episode, issues) : {};

  const live = row.reviews.filter((t) => t.status !== 'entered-in-error');
  const cmrs = cmrsReceived(row, period);
  const offers = live.filter((t) => isCmr(t) && !NOT_AN_OFFER.includes(t.status) && (inPeriod(day(t.authoredOn), period) || cmrs.includes(t)));
  const offerDates = offers.map((t) => day(t.authoredOn) ?? reviewDay(t)).filter((d): d is string => !!d).sort();
  const tmrs = live.filter((t) => isTmr(t) && t.status === 'completed' && inPeriod(reviewDay(t), period));

  for (const cmr of cmrs) {
    const date = reviewDay(cmr) as string;
    if (enrolled && date < enrolled) issues.push(`CMR ${ref(cmr)} (${date}) was done before the enrolment date ${enrolled}`);
    if (out.date && date > out.date) issues.push(`CMR ${ref(cmr)} (${date}) was done after the opt-out date ${out.date}`);
    if (!input(cmr, 'delivery-method')?.valueCodeableConcept?.coding?.[0]?.code) issues.push(`CMR ${ref(cmr)} (${date}) has no delivery method`);
  }
  const first = cmrs[0];
  const delivery = first ? input(first, 'delivery-method')?.valueCodeableConcept?.coding?.[0]?.code : undefined;
  const recipientRef = first ? input(first, 'recipient')?.valueReference?.reference : undefined;
  const ownerKey = first ? referenceKey(first.owner?.reference, 'Practitioner') : undefined;
  const owner = ownerKey ? data.practitioners.get(ownerKey) : undefined;
  if (first && !providerType(owner)) issues.push(`CMR ${ref(first)}: the provider's qualification is not recorded${ownerKey ? ` on ${ownerKey}` : ' (no owner)'}`);

  // The summary sent: the completed delivery Task of the first CMR, else a summary document on the CMR itself.
  let summarySent: Sourced<string> = sourced<string>(undefined);
  if (first) {
    const task = row.summaries.find((s) => s.partOf?.some((p) => referenceKey(p.reference, 'Task') === ref(first)));
    const sent = day(task?.executionPeriod?.end);
    const docKey = first.output?.map((o) => referenceKey(o.valueReference?.reference, 'DocumentReference')).find(Boolean);
    const doc = docKey ? data.documents.get(docKey) : undefined;
    if (task && sent) summarySent = sourced(sent, [ref(task), ...(docKey ? [docKey] : [])]);
    else if (doc?.date) summarySent = sourced(day(doc.date), [ref(first), docKey as string]);
    if (task && !sent) issues.push(`Written summary ${ref(task)} is completed without the date it was sent (executionPeriod.end)`);
    if (summarySent.value && summarySent.value < (reviewDay(first) as string)) {
      issues.push(`The written summary of CMR ${ref(first)} was sent (${summarySent.value}) before the CMR (${reviewDay(first)})`);
    }
  }

  const interventions = countInterventions(row.recommendations, row.responses);
  const recommendationRefs = interventions.interventions.map((i) => ref(i.recommendation));
  const changeRefs = interventions.interventions.filter((i) => i.answer === 'accepted').flatMap((i) => [ref(i.recommendation), ref(i.response!)]);

  return {
    beneficiary: sourced(patientRef, [patientRef]),
    mbi: sourced(mbi, mbi ? [patientRef] : []),
    name: sourced(nameText, nameText ? [patientRef] : []),
    birthDate: sourced(row.patient.birthDate, row.patient.birthDate ? [patientRef] : []),
    // Enrolment through $mtm-eligibility happens when the targeting criteria are met, on that date.
    metTargetingCriteria: sourced<'Y' | 'N'>(episode ? 'Y' : null, episodeRef),
    targetingDate: sourced(enrolled, episodeRef),
    enrollmentDate: sourced(enrolled, episodeRef),
    optOutDate: sourced(out.date, out.date ? episodeRef : []),
    optOutReason: sourced(out.reason?.code, out.reason ? episodeRef : []),
    cmrOffered: sourced<'Y' | 'N'>(offers.length ? 'Y' : 'N', offers.map(ref)),
    cmrOfferDate: sourced(offerDates[0], offers.map(ref)),
    cmrReceived: sourced<'Y' | 'N'>(cmrs.length ? 'Y' : 'N', cmrs.map(ref)),
    cmrDates: sourced(cmrs.length ? cmrs.map((t) => reviewDay(t) as string) : null, cmrs.map(ref)),
    deliveryMethod: sourced(delivery, delivery && first ? [ref(first)] : []),
    providerType: sourced(providerType(owner), owner && ownerKey ? [ref(first as Task & { id: string }), ownerKey] : []),
    recipient: sourced(recipientKind(recipientRef), recipientRef && first ? [ref(first), recipientRef] : []),
    summarySentDate: summarySent,
    tmrCount: sourced(tmrs.length, tmrs.map(ref)),
    recommendations: sourced(interventions.recommendations, recommendationRefs),
    changes: sourced(interventions.changes, changeRefs),
    issues,
  };
}
