/** PATCH with JSON Patch (RFC 6902), FHIR http.html#patch. */
import type { Resource } from '@medplum/fhirtypes';
import { applyPatch, JsonPatchError, type Operation } from 'fast-json-patch';
import { badRequest, conflict, FhirError, unprocessable, unsupportedMediaType } from '../fhir/outcome';
import { parseIfMatch } from './preconditions';
import { validateWithWarnings } from './resource-body';
import { writeResponse } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
/** Elements only the server may change. */
const PROTECTED = [/^$/, /^\/id(\/|$)/, /^\/resourceType(\/|$)/, /^\/meta$/, /^\/meta\/versionId(\/|$)/, /^\/meta\/lastUpdated(\/|$)/];
const HOSTILE_SEGMENT = /(^|\/)(__proto__|constructor|prototype)(\/|$)/;
const MAX_RETRIES = 5;
/** RFC 6901: empty, or "/"-separated tokens in which "~" is only ever "~0" or "~1". */
const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

function parseOperations(body: unknown): Operation[] {
  if (!Array.isArray(body)) throw badRequest('A JSON Patch document must be an array of operations');
  return body.map((op, i) => {
    if (!op || typeof op !== 'object' || !OPS.has((op as { op?: string }).op ?? '')) {
      throw badRequest(`Patch operation ${i} must have "op" set to one of ${[...OPS].join(', ')}`);
    }
    const { path, from } = op as { path?: unknown; from?: unknown };
    if (typeof path !== 'string') throw badRequest(`Patch operation ${i} needs a string "path"`);
    if ((op as Operation).op === 'move' || (op as Operation).op === 'copy') {
      if (typeof from !== 'string') throw badRequest(`Patch operation ${i} (${(op as Operation).op}) needs a string "from"`);
      // RFC 6902 4.4: a value cannot be moved into itself.
      if ((op as Operation).op === 'move' && path.startsWith(`${from}/`)) {
        throw unprocessable(`Patch operation ${i} cannot move ${from} into its own child ${path}`, path);
      }
    }
    for (const pointer of [path, from]) {
      if (typeof pointer !== 'string') continue;
      if (!JSON_POINTER.test(pointer)) throw badRequest(`Patch operation ${i}: "${pointer}" is not a JSON Pointer (RFC 6901: "/"-separated, "~" only as ~0 or ~1)`);
      if (HOSTILE_SEGMENT.test(pointer)) throw badRequest(`Patch operation ${i} names a forbidden path ${pointer}`);
      const changes = (op as Operation).op !== 'test' && (pointer === path || (op as Operation).op === 'move');
      if (changes && PROTECTED.some((p) => p.test(pointer))) {
        throw unprocessable(`Patch operation ${i} may not change ${pointer || 'the whole resource'}: only the server sets it`, pointer);
      }
    }
    return op as Operation;
  });
}

export async function patch(ctx: RequestContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  if (req.bodyKind !== 'json-patch') {
    throw unsupportedMediaType('PATCH needs a JSON Patch document with Content-Type application/json-patch+json');
  }
  const operations = parseOperations(req.body);
  const clientIfMatch = parseIfMatch(req.headers['if-match']);
  const repository = ctx.services.repository;

  for (let attempt = 0; ; attempt++) {
    const current = await repository.read(type, id, req.session);
    if (clientIfMatch !== undefined && current.vid !== clientIfMatch) {
      throw new FhirError(412, [
        { severity: 'error', code: 'conflict', diagnostics: `If-Match expected version ${clientIfMatch}, the server holds ${current.vid}` },
      ]);
    }
    const patched = applyOperations(structuredClone(current.resource), operations);
    if (patched.resourceType !== type || patched.id !== id) throw unprocessable('The patch may not change resourceType or id');
    const checked = await validateWithWarnings(ctx, patched, 'update');
    const validated = checked.resource as Resource & { id: string };
    try {
      const result = await repository.update(validated, { ifMatch: current.vid, session: req.session, method: 'PATCH' });
      return writeResponse(req, ctx, 200, result.resource, `Patched ${type}/${id}`, checked.warnings);
    } catch (error) {
      // Someone else wrote between our read and our write: re-apply the patch to their version.
      const raced = error instanceof FhirError && error.status === 412 && clientIfMatch === undefined;
      if (!raced || attempt >= MAX_RETRIES) throw error;
    }
  }
}

function applyOperations(resource: Resource, operations: Operation[]): Resource {
  try {
    return applyPatch(resource, operations, true, true, true).newDocument;
  } catch (error) {
    if (error instanceof JsonPatchError) {
      if (error.name === 'TEST_OPERATION_FAILED') throw conflict(`Patch test failed at operation ${error.index}: ${error.message.split('\n')[0]}`);
      throw unprocessable(`Patch operation ${error.index ?? ''} cannot be applied: ${error.message.split('\n')[0]}`);
    }
    // The library fails with a plain TypeError on some patches our checks let through (RFC 6902 allows
    // more shapes than it handles); the stored resource is valid, so the patch is what cannot be applied.
    throw unprocessable(`The patch cannot be applied to this resource: ${(error as Error).message}`);
  }
}
