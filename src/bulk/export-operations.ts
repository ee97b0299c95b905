/**
 * FHIR Bulk Data Access 2.0 export: the kick-off (`$export`, `Patient/$export`, `Group/{id}/$export`,
 * GET or POST, `Prefer: respond-async`: 202 with Content-Location), the status URL
 * (`$export-status/{job}`: 202 with X-Progress while running, 200 with the manifest, DELETE to cancel
 * and remove) and the NDJSON files the manifest lists (`$export-file/{job}/{file}`, streamed).
 *
 * Scopes: a kick-off needs read scope on each type asked for by `_type` (403 otherwise); without
 * `_type` it exports the types the client may read. Every type's content is restricted by the
 * access policy (granular scopes, the client's Group) as it is read. A Group export also needs to
 * read the Group. The status URL and files belong to the client that started the job (404 to any
 * other), so they declare no scope of their own.
 */
import fs from 'node:fs';
import type { Group } from '@medplum/fhirtypes';
import { badRequest, FhirError, informational, issue, notFound, outcome } from '../fhir/outcome';
import type { OperationHandler, OperationInvocation } from '../interactions/operations/registry';
import { preferences } from '../interactions/responses';
import type { FhirResponse, RequestContext } from '../interactions/types';
import type { ExportJob, ExportLevel } from './export-jobs';
import { NDJSON, parseExportRequest } from './export-request';
import type { BulkExportService } from './export-service';

const DEFINITION = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export';

function statusUrl(baseUrl: string, job: ExportJob): string {
  return `${baseUrl}/$export-status/${job._id}`;
}

function requestUrl(ctx: RequestContext, inv: OperationInvocation): string {
  const path = inv.req.segments.map(encodeURIComponent).join('/').replace(/%24/g, '$');
  const query = inv.req.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `${ctx.baseUrl}/${path}${query ? `?${query}` : ''}`;
}

function manifest(job: ExportJob): object {
  return {
    transactionTime: new Date(job.transactionTime).toISOString(),
    request: job.requestUrl,
    requiresAccessToken: job.security.principal !== 'anonymous',
    output: job.output.map((o) => ({ type: o.type, url: `${job.baseUrl}/$export-file/${job._id}/${o.file}`, count: o.count })),
    error: [],
  };
}

function kickOff(service: BulkExportService, level: ExportLevel): OperationHandler['invoke'] {
  return async (inv) => {
    const { ctx, req } = inv;
    if (!preferences(req).respondAsync) throw badRequest('A bulk export runs asynchronously: send Prefer: respond-async');
    const request = parseExportRequest(inv.parameters);
    for (const type of request.types ?? []) ctx.services.access.requireScope(ctx.security, type, 'r');
    let group: string | undefined;
    if (level === 'group') {
      const { resource } = await ctx.services.repository.read('Group', inv.id as string);
      if (!(await ctx.services.access.mayAccess(ctx.security, resource as Group, 'r'))) throw notFound(`Group/${inv.id} is not known`);
      group = inv.id;
    }
    const job = await service.start({ level, group, request, requestUrl: requestUrl(ctx, inv), baseUrl: ctx.baseUrl, security: ctx.security });
    return { status: 202, headers: { 'Content-Location': statusUrl(ctx.baseUrl, job) }, body: informational(`Export started; poll ${statusUrl(ctx.baseUrl, job)}`) };
  };
}

async function ownJob(service: BulkExportService, inv: OperationInvocation): Promise<ExportJob> {
  const id = inv.req.segments[1];
  const job = id ? await service.find(id, inv.ctx.security) : undefined;
  if (!job) throw notFound(`No export job ${id ?? ''} is known to this client`);
  return job;
}

export function exportOperations(service: BulkExportService): OperationHandler[] {
  const base = { definition: DEFINITION, allowGet: true, scopes: [] };
  const systemExport: OperationHandler = { ...base, code: 'export', levels: ['system'], invoke: kickOff(service, 'system') };
  const patientExport: OperationHandler = { ...base, code: 'export', levels: ['type'], resourceTypes: ['Patient'], invoke: kickOff(service, 'patient') };
  const groupExport: OperationHandler = {
    ...base,
    code: 'export',
    levels: ['instance'],
    resourceTypes: ['Group'],
    scopes: [{ resourceType: 'Group', permission: 'r' }],
    invoke: kickOff(service, 'group'),
  };
  const status: OperationHandler = {
    ...base,
    code: 'export-status',
    definition: `${DEFINITION}#status`,
    levels: ['system'],
    allowDelete: true,
    async invoke(inv): Promise<FhirResponse> {
      const job = await ownJob(service, inv);
      if (inv.req.method === 'DELETE') {
        await service.delete(job);
        return { status: 202, headers: {}, body: informational(`Export ${job._id} was cancelled and its files removed`) };
      }
      if (job.status === 'in-progress') {
        return { status: 202, headers: { 'X-Progress': `${job.typesDone} of ${job.typesTotal || '?'} types exported`, 'Retry-After': '2' }, body: undefined };
      }
      if (job.status === 'failed') throw new FhirError(500, outcome([issue('error', 'exception', job.error ?? 'The export failed')]));
      // Bulk Data Access 2.0: the complete status may say, in Expires, when the files stop being available.
      const expiresAt = service.expiresAt(job);
      const headers: Record<string, string> = expiresAt === undefined ? {} : { Expires: new Date(expiresAt).toUTCString() };
      return { status: 200, headers, representation: { contentType: 'application/json; charset=utf-8', content: JSON.stringify(manifest(job)) } };
    },
  };
  const file: OperationHandler = {
    ...base,
    code: 'export-file',
    definition: `${DEFINITION}#file`,
    levels: ['system'],
    async invoke(inv): Promise<FhirResponse> {
      if (inv.req.method !== 'GET') throw new FhirError(405, [issue('error', 'not-supported', 'Export files are read with GET')], { Allow: 'GET' });
      const job = await ownJob(service, inv);
      const path = service.filePath(job, inv.req.segments[2] ?? '');
      if (!path || !fs.existsSync(path)) throw notFound('No such file in this export');
      return { status: 200, headers: {}, representation: { contentType: NDJSON, content: fs.createReadStream(path) } };
    },
  };
  return [systemExport, patientExport, groupExport, status, file];
}
