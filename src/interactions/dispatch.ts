/**
 * Routes a FhirRequest to its interaction by method and path (FHIR http.html). Both the HTTP layer
 * and batch/transaction entries come through here.
 */
import { isKnownResourceType } from '../fhir/definitions';
import { badRequest, FhirError, methodNotAllowed, notFound } from '../fhir/outcome';
import { BUNDLE_FEATURES, processBundle } from './bundle';
import { metadata } from './capabilities';
import { create } from './create';
import { conditionalDelete, deleteResource } from './delete';
import { history } from './history';
import { operationInput, type OperationLevel } from './operations/registry';
import { patch } from './patch';
import { read, vread } from './read';
import { searchCompartment, searchSystem, searchType } from './search';
import type { FhirRequest, FhirResponse, RequestContext } from './types';
import { conditionalUpdate, update } from './update';

function notAllowed(method: string, path: string, allowed: string[]): FhirError {
  const error = methodNotAllowed(`${method} is not supported on ${path || 'the base'}; allowed: ${allowed.join(', ')}`);
  return new FhirError(405, error.outcome, { Allow: allowed.join(', ') });
}

function requireType(type: string): void {
  if (!isKnownResourceType(type)) throw notFound(`Unknown resource type "${type}"`);
}

export async function dispatch(ctx: RequestContext, req: FhirRequest): Promise<FhirResponse> {
  const { method, segments } = req;
  const path = segments.join('/');
  const [first, second, third, fourth] = segments;

  if (segments.length === 0) {
    if (method === 'POST') return processBundle(ctx, req, dispatch);
    if (method === 'GET') return searchSystem(ctx, req);
    throw notAllowed(method, path, ['GET', 'POST']);
  }
  if (first.startsWith('$')) return operation(ctx, req, 'system', first);
  if (segments.length === 1 && first === 'metadata') {
    if (method !== 'GET') throw notAllowed(method, path, ['GET']);
    return metadata(ctx, BUNDLE_FEATURES);
  }
  if (segments.length === 1 && first === '_history') {
    if (method !== 'GET') throw notAllowed(method, path, ['GET']);
    return history(ctx, req, {});
  }
  if (segments.length === 1 && first === '_search') {
    if (method !== 'POST') throw notAllowed(method, path, ['POST']);
    return searchSystem(ctx, req);
  }

  requireType(first);
  const type = first;
  if (segments.length === 1) {
    switch (method) {
      case 'GET':
        return searchType(ctx, req, type);
      case 'POST':
        return create(ctx, req, type);
      case 'PUT':
        return conditionalUpdate(ctx, req, type);
      case 'DELETE':
        if (req.query.length === 0) throw badRequest(`DELETE ${type} needs search parameters (conditional delete)`);
        return conditionalDelete(ctx, req, type);
      default:
        throw notAllowed(method, path, ['GET', 'POST', 'PUT', 'DELETE']);
    }
  }
  if (second === '_search' && segments.length === 2) {
    if (method !== 'POST') throw notAllowed(method, path, ['POST']);
    return searchType(ctx, req, type);
  }
  if (second === '_history' && segments.length === 2) {
    if (method !== 'GET') throw notAllowed(method, path, ['GET']);
    return history(ctx, req, { type });
  }
  if (second.startsWith('$') && segments.length === 2) return operation(ctx, req, 'type', second, type);

  const id = second;
  if (segments.length === 2) {
    switch (method) {
      case 'GET':
        return read(ctx, req, type, id);
      case 'PUT':
        return update(ctx, req, type, id);
      case 'PATCH':
        return patch(ctx, req, type, id);
      case 'DELETE':
        return deleteResource(ctx, req, type, id);
      default:
        throw notAllowed(method, path, ['GET', 'PUT', 'PATCH', 'DELETE']);
    }
  }
  if (third === '_history') {
    if (method !== 'GET') throw notAllowed(method, path, ['GET']);
    if (segments.length === 3) return history(ctx, req, { type, id });
    if (segments.length === 4) return vread(ctx, req, type, id, fourth);
  }
  if (third?.startsWith('$') && segments.length === 3) return operation(ctx, req, 'instance', third, type, id);
  if (segments.length === 3) {
    if (method !== 'GET') throw notAllowed(method, path, ['GET']);
    if (third !== '*') requireType(third);
    return searchCompartment(ctx, req, { type, id }, third);
  }
  throw notFound(`No FHIR interaction is found at ${path}`);
}

async function operation(
  ctx: RequestContext,
  req: FhirRequest,
  level: OperationLevel,
  segment: string,
  resourceType?: string,
  id?: string,
): Promise<FhirResponse> {
  const code = segment.slice(1);
  const handler = ctx.services.operations.find(code, level, resourceType);
  const where = level === 'system' ? 'the system level' : `${resourceType}${id ? '/{id}' : ''}`;
  if (!handler) throw notFound(`Operation $${code} is not supported at ${where}`);
  if (req.method !== 'POST' && !(req.method === 'GET' && handler.allowGet) && !(req.method === 'DELETE' && handler.allowDelete)) {
    throw notAllowed(req.method, segment, [...(handler.allowGet ? ['GET'] : []), 'POST', ...(handler.allowDelete ? ['DELETE'] : [])]);
  }
  for (const { resourceType: scopeType, permission } of handler.scopes) {
    ctx.services.access.requireScope(ctx.security, scopeType, permission);
  }
  const input = operationInput(req);
  return handler.invoke({ ctx, req, level, resourceType, id, ...input });
}
