/** Codes of prescriber interventions (profiles/CodeSystem-mtm-intervention.json) and the mitigations they lead to. */
import type { CodeableConcept, Coding, Communication, CommunicationRequest } from '@medplum/fhirtypes';

export const INTERVENTION_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export type PrescriberAnswer = 'accepted' | 'declined' | 'no-response';
const ANSWERS: readonly string[] = ['accepted', 'declined', 'no-response'];

export const RECOMMENDATION_CATEGORY: CodeableConcept = {
  coding: [{ system: INTERVENTION_SYSTEM, code: 'prescriber-recommendation', display: 'Recommendation to a prescriber' }],
};

const codings = (concepts: CodeableConcept[] | undefined): Coding[] => (concepts ?? []).flatMap((c) => c.coding ?? []);

export function isRecommendation(request: CommunicationRequest): boolean {
  return codings(request.category).some((c) => c.system === INTERVENTION_SYSTEM && c.code === 'prescriber-recommendation');
}

/** The prescriber's answer a Communication records, if it is a response to a recommendation. */
export function answerOf(communication: Communication): PrescriberAnswer | undefined {
  const coding = codings(communication.category).find((c) => c.system === INTERVENTION_SYSTEM && ANSWERS.includes(c.code ?? ''));
  return coding?.code as PrescriberAnswer | undefined;
}

/** The change an accepted recommendation led to (mtm-resp-2 requires it). */
export function changeMade(communication: Communication): Coding | undefined {
  return codings(communication.category).find((c) => c.system === V3_ACT_CODE);
}

/** The DetectedIssue mitigation an answer records (v3 ActCode detected-issue management codes, displays as in R4). */
export function mitigationAction(communication: Communication): Coding | undefined {
  switch (answerOf(communication)) {
    case 'accepted':
      return changeMade(communication);
    case 'declined':
      return { system: V3_ACT_CODE, code: '6', display: 'Prescriber Declined Change' };
    case 'no-response':
      return { system: V3_ACT_CODE, code: '5', display: 'Consulted Prescriber' };
    default:
      return undefined;
  }
}
