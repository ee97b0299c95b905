/**
 * Everything the MTM reports need about one reporting period, loaded in a few searches (not one per
 * patient) and grouped by patient: the MTM enrolments overlapping the period, the review Tasks, the
 * written-summary Tasks, the recommendations to prescribers and their answers, the patients and the
 * pharmacists. Restricted to the patients the caller may see (the access policy).
 */
import type {
  Communication,
  CommunicationRequest,
  DocumentReference,
  EpisodeOfCare,
  Patient,
  Practitioner,
  Procedure,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { findMatches } from '../../interactions/conditional';
import type { RequestContext } from '../../interactions/types';
import { TASK_TYPE_SYSTEM } from '../lifecycle/codes';
import { recommendationQuery, responseQuery } from '../interventions/counts';
import { REVIEW_TYPE_SYSTEM } from '../review-codes';

export const EPISODE_TYPE_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-episode-type';
/** SNOMED CT 385763009 "Hospice care (regime/therapy)", from VSAC "Palliative or Hospice Care" 2.16.840.1.113883.3.600.1.1579. */
export const HOSPICE = { system: 'http://snomed.info/sct', code: '385763009' };
/** Most resources of one kind a report reads; beyond it the report would be partial, so it refuses (400). */
export const MAX_PER_SEARCH = 1_000_000;

export interface Period {
  /** First day, YYYY-MM-DD. */
  start: string;
  /** Last day, YYYY-MM-DD (inclusive). */
  end: string;
}

export interface PatientPeriodData {
  patient: Patient & { id: string };
  episodes: (EpisodeOfCare & { id: string })[];
  reviews: (Task & { id: string })[];
  summaries: (Task & { id: string })[];
  recommendations: (CommunicationRequest & { id: string })[];
  responses: (Communication & { id: string })[];
  hospice: (Resource & { id: string })[];
}

export interface PeriodData {
  period: Period;
  patients: PatientPeriodData[];
  practitioners: Map<string, Practitioner>;
  documents: Map<string, DocumentReference>;
}

/** "Patient/123" from a literal reference, relative or absolute; undefined otherwise. */
export function referenceKey(reference: string | undefined, type: string): string | undefined {
  const match = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`).exec(reference ?? '');
  return match ? `${type}/${match[1]}` : undefined;
}

async function all<T extends Resource>(ctx: RequestContext, type: string, query: Array<[string, string]>): Promise<(T & { id: string })[]> {
  return (await findMatches(ctx, type, query, MAX_PER_SEARCH)) as (T & { id: string })[];
}

/** Search values are limited to 1024 characters, so ids go in chunks that fit. */
async function byIds<T extends Resource>(ctx: RequestContext, type: string, ids: Iterable<string>): Promise<(T & { id: string })[]> {
  const out: (T & { id: string })[] = [];
  let chunk: string[] = [];
  let length = 0;
  const flush = async () => {
    if (chunk.length) out.push(...(await all<T>(ctx, type, [['_id', chunk.join(',')]])));
    chunk = [];
    length = 0;
  };
  for (const id of new Set(ids)) {
    if (length + id.length + 1 > 1000) await flush();
    chunk.push(id);
    length += id.length + 1;
  }
  await flush();
  return out;
}

function group<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (!k) continue;
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

export async function loadPeriodData(ctx: RequestContext, period: Period): Promise<PeriodData> {
  const overlapping: Array<[string, string]> = [
    ['date', `ge${period.start}`],
    ['date', `le${period.end}`],
  ];
  const episodes = await all<EpisodeOfCare>(ctx, 'EpisodeOfCare', [['type', `${EPISODE_TYPE_SYSTEM}|mtm-program`], ...overlapping]);
  const allowed = await ctx.services.access.patientIds(ctx.security);
  const episodesByPatient = group(episodes, (e) => {
    const key = referenceKey(e.patient?.reference, 'Patient');
    return key && (!allowed || allowed.has(key.slice('Patient/'.length))) ? key : undefined;
  });
  const patients: (Patient & { id: string })[] = [];
  for (const patient of await byIds<Patient>(ctx, 'Patient', [...episodesByPatient.keys()].map((k) => k.slice('Patient/'.length)))) {
    if (await ctx.services.access.mayAccess(ctx.security, patient, 'r')) patients.push(patient);
  }

  // Reviews done in the period, and CMRs offered (authored) in it; summaries may be sent after the period ends.
  const reviewCodes = `${REVIEW_TYPE_SYSTEM}|cmr,${REVIEW_TYPE_SYSTEM}|tmr`;
  const done = await all<Task>(ctx, 'Task', [['code', reviewCodes], ['period', `ge${period.start}`], ['period', `le${period.end}`]]);
  const offered = await all<Task>(ctx, 'Task', [['code', `${REVIEW_TYPE_SYSTEM}|cmr`], ['authored-on', `ge${period.start}`], ['authored-on', `le${period.end}`]]);
  const reviews = [...new Map([...done, ...offered].map((t) => [t.id, t])).values()];
  const summaries = await all<Task>(ctx, 'Task', [['code', `${TASK_TYPE_SYSTEM}|written-summary-delivery`], ['status', 'completed']]);
  const recommendations = await all<CommunicationRequest>(ctx, 'CommunicationRequest', recommendationQuery(period.start, period.end));
  const responses = await all<Communication>(ctx, 'Communication', responseQuery());
  const hospiceEpisodes = await all<EpisodeOfCare>(ctx, 'EpisodeOfCare', [['type', `${HOSPICE.system}|${HOSPICE.code}`], ...overlapping]);
  const hospiceProcedures = await all<Procedure>(ctx, 'Procedure', [['code', `${HOSPICE.system}|${HOSPICE.code}`], ...overlapping]);

  const reviewsBy = group(reviews, (t) => referenceKey(t.for?.reference, 'Patient'));
  const summariesBy = group(summaries, (t) => referenceKey(t.for?.reference, 'Patient'));
  const recommendationsBy = group(recommendations, (r) => referenceKey(r.subject?.reference, 'Patient'));
  const responsesBy = group(responses, (r) => referenceKey(r.subject?.reference, 'Patient'));
  const hospiceBy = group<Resource & { id: string }>([...hospiceEpisodes, ...hospiceProcedures], (r) =>
    referenceKey((r as EpisodeOfCare).patient?.reference ?? (r as Procedure).subject?.reference, 'Patient'),
  );

  const rows: PatientPeriodData[] = patients.map((patient) => {
    const key = `Patient/${patient.id}`;
    return {
      patient,
      episodes: episodesByPatient.get(key) ?? [],
      reviews: reviewsBy.get(key) ?? [],
      summaries: summariesBy.get(key) ?? [],
      recommendations: recommendationsBy.get(key) ?? [],
      responses: responsesBy.get(key) ?? [],
      hospice: hospiceBy.get(key) ?? [],
    };
  });
  const owners = reviews.map((t) => referenceKey(t.owner?.reference, 'Practitioner')?.slice('Practitioner/'.length)).filter((x): x is string => !!x);
  const practitioners = new Map((await byIds<Practitioner>(ctx, 'Practitioner', owners)).map((p) => [`Practitioner/${p.id}`, p]));
  const documentIds = [...reviews, ...summaries]
    .flatMap((t) => t.output ?? [])
    .map((o) => referenceKey(o.valueReference?.reference, 'DocumentReference')?.slice('DocumentReference/'.length))
    .filter((x): x is string => !!x);
  const documents = new Map((await byIds<DocumentReference>(ctx, 'DocumentReference', documentIds)).map((d) => [`DocumentReference/${d.id}`, d]));
  rows.sort((a, b) => a.patient.id.localeCompare(b.patient.id));
  return { period, patients: rows, practitioners, documents };
}
