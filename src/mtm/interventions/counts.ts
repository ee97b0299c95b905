/**
 * Prescriber interventions per patient and period, as CMS Part D MTM reporting counts them: the
 * recommendations made to prescribers (by the date made) and how many resulted in a change (their
 * latest answer is "accepted").
 */
import type { Communication, CommunicationRequest, Coding } from '@medplum/fhirtypes';
import { answerOf, changeMade, INTERVENTION_SYSTEM, type PrescriberAnswer } from './codes';

export interface Intervention {
  recommendation: CommunicationRequest & { id: string };
  /** The latest answer, if any. */
  response?: Communication & { id: string };
  answer?: PrescriberAnswer;
  /** The change made, when the answer is "accepted". */
  change?: Coding;
}

export interface InterventionCounts {
  recommendations: number;
  changes: number;
  interventions: Intervention[];
}

const answeredAt = (c: Communication): string => c.received ?? c.sent ?? c.meta?.lastUpdated ?? '';

/** Matches answers to recommendations; `responses` may hold answers to other recommendations too. */
export function countInterventions(recommendations: CommunicationRequest[], responses: Communication[]): InterventionCounts {
  const latest = new Map<string, Communication & { id: string }>();
  for (const response of responses) {
    const basedOn = /CommunicationRequest\/([^/]+)$/.exec(response.basedOn?.[0]?.reference ?? '')?.[1];
    if (!basedOn || !answerOf(response)) continue;
    const known = latest.get(basedOn);
    if (!known || answeredAt(response) >= answeredAt(known)) latest.set(basedOn, response as Communication & { id: string });
  }
  const interventions = (recommendations as (CommunicationRequest & { id: string })[]).map((recommendation) => {
    const response = latest.get(recommendation.id);
    const answer = response ? answerOf(response) : undefined;
    return { recommendation, response, answer, change: answer === 'accepted' && response ? changeMade(response) : undefined };
  });
  return { recommendations: interventions.length, changes: interventions.filter((i) => i.answer === 'accepted').length, interventions };
}

/** Search parameters for the recommendations made in [start, end] (dates), optionally for one patient. */
export function recommendationQuery(start: string, end: string, patient?: string): Array<[string, string]> {
  return [
    ['category', `${INTERVENTION_SYSTEM}|prescriber-recommendation`],
    ['authored', `ge${start}`],
    ['authored', `le${end}`],
    ...(patient ? ([['subject', patient]] as Array<[string, string]>) : []),
  ];
}

/** Search parameters for the answers to recommendations, optionally for one patient. */
export function responseQuery(patient?: string): Array<[string, string]> {
  return [
    ['category', ['accepted', 'declined', 'no-response'].map((c) => `${INTERVENTION_SYSTEM}|${c}`).join(',')],
    ...(patient ? ([['subject', patient]] as Array<[string, string]>) : []),
  ];
}
