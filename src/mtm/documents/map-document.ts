/**
 * The Medication Action Plan as a FHIR document (Bundle.type = document) an EHR can file: a
 * Composition shaped like the HL7 SMP IG's smp-map-composition (type LOINC 80797-4, a professional
 * attester, section map-care-plan with SNOMED CT 736378000 referencing the CarePlan, and section
 * map-document with LOINC 80797-4 referencing the filed written summary when there is one), then
 * every resource the document references.
 */
import type {
  Bundle,
  CarePlan,
  Composition,
  CompositionSection,
  DetectedIssue,
  DocumentReference,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome';
import type { RequestContext } from '../../interactions/types';
import { newResourceId } from '../../repository/resource-ids';
import { LOINC } from '../medication-lists';
import { outputReference } from './cmr-record';
import { conceptText, longDate, personName } from './display';
import { referenceParts, resolve } from './references';
import { escapeHtml } from './render-html';

const SNOMED = 'http://snomed.info/sct';
/** Composition.type and section map-document of smp-map-composition (HL7 SMP IG 1.0.0). */
const PLAN_OF_CARE_NOTE = { system: LOINC, code: '80797-4', display: 'Pharmacology Plan of care note' };
/** Section map-care-plan of smp-map-composition, as the MAP's category (HL7 SMP IG 1.0.0). */
const MEDICATION_MANAGEMENT_PLAN = { system: SNOMED, code: '736378000', display: 'Medication management plan (record artifact)' };

function narrative(html: string) {
  return { status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${html}</div>` };
}

function planNarrative(plan: CarePlan): string {
  const items = (plan.activity ?? []).map((a) => {
    const topic = conceptText(a.detail?.code);
    const todo = a.detail?.description;
    return `<li>${topic ? `<b>${escapeHtml(topic)}</b>: ` : ''}${escapeHtml(todo ?? '')}</li>`;
  });
  return items.length ? `<ul>${items.join('')}</ul>` : '<p>No action items recorded.</p>';
}

/** The CMR whose output is this plan, for its filed written summary; undefined when there is none. */
async function findReview(ctx: RequestContext, planId: string): Promise<Task | undefined> {
  const found = (await ctx.services.search?.findMatches('Task', [['output', `CarePlan/${planId}`]], { limit: 10 })) as Task[] | undefined;
  for (const task of found ?? []) {
    if (await ctx.services.access.mayAccess(ctx.security, task, 'r')) return task;
  }
  return undefined;
}

/** References from the Composition are absolute, equal to the fullUrl of the entry they point at. */
function absolute<T extends Reference | undefined>(ctx: RequestContext, reference: T): T {
  if (!reference?.reference || !referenceParts(reference)) return reference;
  return { ...reference, reference: `${ctx.baseUrl}/${reference.reference}` };
}

function entry(ctx: RequestContext, resource: Resource) {
  return { fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`, resource };
}

export async function medicationActionPlanDocument(ctx: RequestContext, plan: CarePlan & { id: string }): Promise<Bundle> {
  const patient = await resolve<Patient>(ctx, plan.subject, ['Patient']);
  const author = await resolve<Practitioner | PractitionerRole>(ctx, plan.author, ['Practitioner', 'PractitionerRole']);
  const authorType = referenceParts(plan.author)?.type;
  if (authorType !== 'Practitioner' && authorType !== 'PractitionerRole') {
    throw unprocessable(`CarePlan/${plan.id} needs a Practitioner or PractitionerRole author to attest the document (smp-map-composition)`, 'CarePlan.author');
  }
  const attester = absolute(ctx, plan.author as Reference<Practitioner | PractitionerRole>);
  const issues = (await Promise.all((plan.supportingInfo ?? []).map((r) => resolve<DetectedIssue>(ctx, r, ['DetectedIssue'])))).filter((r): r is DetectedIssue => !!r);
  const implicated = new Map<string, Resource>();
  for (const issue of issues) {
    for (const ref of issue.implicated ?? []) {
      const resource = await resolve<Resource>(ctx, ref, ['MedicationStatement', 'MedicationRequest', 'Condition', 'Observation', 'AllergyIntolerance']);
      if (resource?.id) implicated.set(`${resource.resourceType}/${resource.id}`, resource);
    }
  }
  const review = await findReview(ctx, plan.id);
  const summary = review ? await resolve<DocumentReference>(ctx, outputReference(review, 'summary-document'), ['DocumentReference']) : undefined;

  const now = new Date().toISOString();
  const patientName = personName(patient?.name) ?? plan.subject?.display;
  const title = plan.title ?? `Medication Action Plan${patientName ? ` for ${patientName}` : ''}`;
  const sections: CompositionSection[] = [
    {
      title: 'Medication Action Plan',
      code: { coding: [MEDICATION_MANAGEMENT_PLAN] },
      text: narrative(planNarrative(plan)),
      entry: [{ reference: `${ctx.baseUrl}/CarePlan/${plan.id}` }],
    },
  ];
  if (summary?.id) {
    const filed = longDate(summary.date);
    sections.push({
      title: 'Written summary',
      code: { coding: [PLAN_OF_CARE_NOTE] },
      text: narrative(`<p>${escapeHtml(summary.description ?? 'Written summary')}${filed ? `, filed ${escapeHtml(filed)}` : ''} (PDF).</p>`),
      entry: [{ reference: `${ctx.baseUrl}/DocumentReference/${summary.id}` }],
    });
  }
  const composition: Composition = {
    resourceType: 'Composition',
    id: newResourceId(),
    status: 'final',
    type: { coding: [PLAN_OF_CARE_NOTE] },
    category: [{ coding: [MEDICATION_MANAGEMENT_PLAN] }],
    subject: absolute(ctx, plan.subject),
    date: plan.created ?? now,
    author: [attester],
    title,
    attester: [{ mode: 'professional', party: attester, time: plan.created }],
    section: sections,
  };
  const resources: Resource[] = [composition, plan, ...(patient ? [patient] : []), ...(author ? [author] : []), ...issues, ...implicated.values(), ...(summary ? [summary] : [])];
  return {
    resourceType: 'Bundle',
    id: newResourceId(),
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${composition.id}` },
    type: 'document',
    timestamp: now,
    entry: resources.map((r) => (r === composition ? { fullUrl: `urn:uuid:${composition.id}`, resource: r } : entry(ctx, r))),
  };
}
