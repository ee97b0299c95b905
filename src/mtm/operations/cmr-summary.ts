/**
 * Task/{id}/$cmr-summary: the written summary of a completed CMR in the CMS Standardized Format.
 * Accept chooses the answer: text/html (an accessible page), application/pdf, or FHIR JSON (the PDF
 * as a Binary). persist=true (POST only) files the PDF (DocumentReference + Binary), links it from
 * the CMR and completes the CMR's "deliver the written summary" Task; it answers the
 * DocumentReference in JSON, or the document itself with Content-Location naming where it was filed.
 */
import type { Binary, Parameters } from '@medplum/fhirtypes';
import { badRequest, methodNotAllowed } from '../../fhir/outcome';
import { chooseMediaType } from '../../interactions/operations/media-type';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import { resourceHeaders } from '../../interactions/responses';
import type { FhirResponse, RequestContext } from '../../interactions/types';
import { buildWrittenSummary } from '../documents/build-summary';
import { readCmrRecord, readCompletedCmr } from '../documents/cmr-record';
import { persistSummary } from '../documents/persist-summary';
import { renderSummaryHtml } from '../documents/render-html';
import { renderSummaryPdf } from '../documents/render-pdf';
import { DOCUMENT_TITLE } from '../documents/standardized-format';

export const CMR_SUMMARY_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/Task-cmr-summary';

const OFFERED = ['application/fhir+json', 'application/json', 'text/html', 'application/pdf'] as const;

function booleanParameter(parameters: Parameters, name: string): boolean {
  const p = parameterValue(parameters, name);
  if (!p) return false;
  if (typeof p.valueBoolean === 'boolean') return p.valueBoolean;
  if (p.valueString === 'true' || p.valueString === 'false') return p.valueString === 'true';
  throw badRequest(`${name} must be true or false`, name);
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function requirePersistScopes(ctx: RequestContext): void {
  const { access } = ctx.services;
  access.requireScope(ctx.security, 'DocumentReference', 'c');
  access.requireScope(ctx.security, 'Binary', 'c');
  access.requireScope(ctx.security, 'Task', 'u');
}

export const cmrSummary: OperationHandler = {
  code: 'cmr-summary',
  definition: CMR_SUMMARY_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Task'],
  allowGet: true,
  scopes: [
    { resourceType: 'Task', permission: 'r' },
    { resourceType: 'Patient', permission: 'r' },
    { resourceType: 'CarePlan', permission: 'r' },
    { resourceType: 'List', permission: 'r' },
    { resourceType: 'MedicationStatement', permission: 'r' },
  ],
  async invoke({ ctx, req, id, parameters }): Promise<FhirResponse> {
    const persist = booleanParameter(parameters, 'persist');
    if (persist && req.method !== 'POST') throw methodNotAllowed('persist=true stores a document: use POST');
    if (persist) requirePersistScopes(ctx);
    const mediaType = chooseMediaType(req.headers.accept, OFFERED);
    const task = await readCompletedCmr(ctx, id as string);
    const summary = buildWrittenSummary(await readCmrRecord(ctx, task), today());

    if (mediaType === 'text/html' && !persist) {
      return { status: 200, headers: {}, representation: { contentType: 'text/html; charset=utf-8', content: renderSummaryHtml(summary) } };
    }
    const pdf = await renderSummaryPdf(summary);
    if (!persist) {
      if (mediaType === 'application/pdf') return { status: 200, headers: {}, representation: { contentType: 'application/pdf', content: pdf } };
      const binary: Binary = { resourceType: 'Binary', contentType: 'application/pdf', securityContext: task.for, data: pdf.toString('base64') };
      return { status: 200, headers: {}, body: binary };
    }

    const title = summary.patient.name ? `${DOCUMENT_TITLE}: ${summary.patient.name}` : DOCUMENT_TITLE;
    const { documentReference } = await persistSummary(ctx, task, pdf, title);
    const location = `${ctx.baseUrl}/DocumentReference/${documentReference.id}`;
    if (mediaType === 'text/html') {
      return { status: 201, headers: { 'Content-Location': location }, representation: { contentType: 'text/html; charset=utf-8', content: renderSummaryHtml(summary) } };
    }
    if (mediaType === 'application/pdf') {
      return { status: 201, headers: { 'Content-Location': location }, representation: { contentType: 'application/pdf', content: pdf } };
    }
    return {
      status: 201,
      headers: { ...resourceHeaders(documentReference), Location: `${location}/_history/${documentReference.meta?.versionId}` },
      body: documentReference,
    };
  },
};
