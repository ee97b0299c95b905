/**
 * Files a written summary: the PDF as a Binary, a DocumentReference describing it (and replacing the
 * CMR's previous summary, if any), the CMR Task's `summary` output pointing at it, and the CMR's
 * "deliver the written summary" Task completed with the date it was sent. One transaction: all of
 * it is stored, or none of it.
 */
import { createHash } from 'node:crypto';
import type { Binary, DocumentReference, Patient, Practitioner, PractitionerRole, Reference, Resource, Task } from '@medplum/fhirtypes';
import { validateForWrite } from '../../interactions/resource-body';
import type { RequestContext } from '../../interactions/types';
import { newResourceId } from '../../repository/resource-ids';
import type { StorageSession } from '../../storage/port';
import { LOINC } from '../medication-lists';
import { REVIEW_PARAMETER_SYSTEM } from '../lifecycle/codes';
import { outputReference } from './cmr-record';
import { resolve } from './references';
import { completeSummaryDelivery } from '../lifecycle/summary-delivery';

export interface PersistedSummary {
  documentReference: DocumentReference & { id: string };
  binary: Binary & { id: string };
  deliveryTask?: Task;
}

/**
 * LOINC 80797-4 "Pharmacology Plan of care note": the code the HL7 SMP IG's smp-map-composition gives
 * its map-document section, a DocumentReference to the plan's PDF (../shared/notes/mtm-standards.md).
 */
export const SUMMARY_DOCUMENT_TYPE = {
  coding: [{ system: LOINC, code: '80797-4', display: 'Pharmacology Plan of care note' }],
  text: 'Written summary of a comprehensive medication review (CMS Standardized Format)',
};

/** Validates a server-made resource like any client write (422 with every issue when it fails). */
async function validated<T extends Resource>(ctx: RequestContext, resource: T): Promise<T> {
  return (await validateForWrite(ctx, resource, resource.id ? 'update' : 'create')) as T;
}

function version(resource: Resource): number | undefined {
  return resource.meta?.versionId ? Number(resource.meta.versionId) : undefined;
}

function summaryOutput(reference: Reference): NonNullable<Task['output']>[number] {
  return { type: { coding: [{ system: REVIEW_PARAMETER_SYSTEM, code: 'summary-document' }] }, valueReference: reference };
}

export async function persistSummary(ctx: RequestContext, cmr: Task & { id: string }, pdf: Buffer, title: string): Promise<PersistedSummary> {
  const sent = new Date().toISOString();
  const binaryId = newResourceId();
  const previous = await resolve<DocumentReference>(ctx, outputReference(cmr, 'summary-document'), ['DocumentReference']);
  const binary: Binary = {
    resourceType: 'Binary',
    id: binaryId,
    contentType: 'application/pdf',
    securityContext: cmr.for,
    data: pdf.toString('base64'),
  };
  const document: DocumentReference = {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: SUMMARY_DOCUMENT_TYPE,
    // mtm-review-task narrows Task.for to Patient and Task.owner to Practitioner | PractitionerRole.
    subject: cmr.for as Reference<Patient>,
    date: sent,
    author: cmr.owner ? [cmr.owner as Reference<Practitioner | PractitionerRole>] : undefined,
    description: title,
    relatesTo: previous?.id ? [{ code: 'replaces', target: { reference: `DocumentReference/${previous.id}` } }] : undefined,
    content: [
      {
        attachment: {
          contentType: 'application/pdf',
          language: 'en-US',
          url: `Binary/${binaryId}`,
          size: pdf.length,
          hash: createHash('sha1').update(pdf).digest('base64'),
          title,
          creation: sent,
        },
      },
    ],
    context: { related: [{ reference: `Task/${cmr.id}` }], period: cmr.executionPeriod },
  };
  const documentId = newResourceId();
  const reference = { reference: `DocumentReference/${documentId}`, display: title };
  const others = (cmr.output ?? []).filter((o) => !o.type?.coding?.some((c) => c.system === REVIEW_PARAMETER_SYSTEM && c.code === 'summary-document'));
  // Everything is validated before the transaction starts, so no write waits on validation.
  const [validBinary, validDocument, validCmr, validPrevious] = await Promise.all([
    validated(ctx, binary),
    validated(ctx, { ...document, id: documentId }),
    validated(ctx, { ...cmr, output: [...others, summaryOutput(reference)] }),
    previous ? validated(ctx, { ...previous, status: 'superseded' } as DocumentReference) : undefined,
  ]);
  const repository = ctx.services.repository;
  return repository.engine.withTransaction(async (session) => {
    const stored = async <T extends Resource>(resource: T, options: { id?: string; ifMatch?: number } = {}) =>
      (options.ifMatch !== undefined
        ? await repository.update(resource as Resource & { id: string }, { session, ifMatch: options.ifMatch })
        : await repository.create(resource, { session, id: options.id })
      ).resource as T & { id: string };
    const storedBinary = await stored(validBinary, { id: binaryId });
    const documentReference = await stored(validDocument, { id: documentId });
    if (validPrevious) await stored(validPrevious, { ifMatch: version(previous as Resource) });
    // If-Match on the version read: a CMR changed meanwhile makes this 412 rather than losing that change.
    const updatedCmr = await stored(validCmr, { ifMatch: version(cmr) });
    const deliveryTask = await completeSummaryDelivery(ctx, updatedCmr, { document: reference, sent }, session);
    return { documentReference, binary: storedBinary, deliveryTask };
  });
}
