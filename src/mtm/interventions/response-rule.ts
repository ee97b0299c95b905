/**
 * Recording a prescriber's answer (a Communication basedOn a recommendation) updates, in the same
 * transaction, the mitigation of each DetectedIssue the recommendation is about, and completes the
 * recommendation. A write rule, so it holds whichever way the answer arrives (POST, transaction).
 */
import type { Communication, CommunicationRequest, DetectedIssue, DetectedIssueMitigation, Resource } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome';
import type { WriteRule } from '../../repository/repository';
import type { StorageSession } from '../../storage/port';
import { type DerivedWriteDeps, updateValidated } from '../derived-writes';
import { answerOf, isRecommendation, mitigationAction } from './codes';

const LITERAL = /^(?:.*\/)?([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

async function readReferenced<T extends Resource>(deps: DerivedWriteDeps, reference: string | undefined, type: string, session: StorageSession, where: string): Promise<T & { id: string }> {
  const match = LITERAL.exec(reference ?? '');
  if (!match || match[1] !== type) throw unprocessable(`${where} must reference a ${type} held by this server, got "${reference ?? ''}"`, where);
  const doc = await deps.repository.readDocument(type, match[2], session);
  if (!doc?.resource || doc.deleted) throw unprocessable(`${where} references ${type}/${match[2]}, which this server does not hold`, where);
  return doc.resource as T & { id: string };
}

export function prescriberResponseRule(deps: DerivedWriteDeps): WriteRule {
  return {
    async after(stored, previous, session) {
      // Only a newly recorded answer changes the problem's mitigation; corrections to it do not add another.
      if (stored.resourceType !== 'Communication' || previous) return;
      const response = stored as Communication;
      const action = mitigationAction(response);
      if (!answerOf(response) || !action) return;
      const request = await readReferenced<CommunicationRequest>(deps, response.basedOn?.[0]?.reference, 'CommunicationRequest', session, 'Communication.basedOn');
      if (!isRecommendation(request)) throw unprocessable(`CommunicationRequest/${request.id} is not a recommendation to a prescriber`, 'Communication.basedOn');
      if (request.subject?.reference !== response.subject?.reference) {
        throw unprocessable(`The answer is about ${response.subject?.reference}, the recommendation about ${request.subject?.reference}`, 'Communication.subject');
      }
      const date = response.received ?? response.sent ?? stored.meta?.lastUpdated;
      for (const [i, about] of (request.about ?? []).entries()) {
        const issue = await readReferenced<DetectedIssue>(deps, about.reference, 'DetectedIssue', session, `CommunicationRequest.about[${i}]`);
        // The answer may only change the problems of the patient it is about (a write in another compartment otherwise).
        if (issue.patient?.reference !== request.subject?.reference) {
          throw unprocessable(`DetectedIssue/${issue.id} is about ${issue.patient?.reference}, the recommendation about ${request.subject?.reference}`, `CommunicationRequest.about[${i}]`);
        }
        // The profile narrows the requester to Practitioner | PractitionerRole, as DetectedIssue.mitigation.author is.
        const author = request.requester as DetectedIssueMitigation['author'];
        const mitigation: DetectedIssueMitigation = { action: { coding: [action] }, ...(date ? { date } : {}), ...(author ? { author } : {}) };
        await updateValidated(deps, { ...issue, mitigation: [...(issue.mitigation ?? []), mitigation] }, session);
      }
      if (request.status === 'active') await updateValidated(deps, { ...request, status: 'completed' }, session);
    },
  };
}
