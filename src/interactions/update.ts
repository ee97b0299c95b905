/** update, update-as-create and conditional update (FHIR http.html#update, #cond-update). */
import type { Resource } from '@medplum/fhirtypes';
import { FHIR_ID as ID_PATTERN } from '../fhir/ids';
import { badRequest, preconditionFailed } from '../fhir/outcome';
import { findMatches, inTransaction, lockCondition } from './conditional';
import { parseIfMatch } from './preconditions';
import { requireResource, validateWithWarnings } from './resource-body';
import { writeResponse } from './responses';
import type { FhirRequest, FhirResponse, RequestContext } from './types';


export async function update(ctx: RequestContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const body = requireResource(req, type);
  if (!ID_PATTERN.test(id)) throw badRequest(`"${id}" is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)`);
  if (body.id === undefined) throw badRequest(`The body must carry the id ${id} from the URL`, 'id');
  if (body.id !== id) throw badRequest(`The body's id "${body.id}" does not match the URL's id "${id}"`, 'id');
  const checked = await validateWithWarnings(ctx, body, 'update', req.validated);
  const resource = checked.resource as Resource & { id: string };
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const result = await ctx.services.repository.update(resource, { ifMatch, session: req.session });
  return writeResponse(req, ctx, result.created ? 201 : 200, result.resource, `${result.created ? 'Created' : 'Updated'} ${type}/${id}`, checked.warnings);
}

export async function conditionalUpdate(ctx: RequestContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  const body = requireResource(req, type);
  if (req.query.length === 0) throw badRequest(`A conditional update needs search parameters, e.g. PUT ${type}?identifier=...`);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  // The body of a conditional update may leave the id to the server, as a create does.
  const { resource: validated, warnings } = await validateWithWarnings(ctx, body, body.id === undefined ? 'create' : 'update', req.validated);
  return inTransaction(ctx, req.session, async (session) => {
    await lockCondition(ctx, type, req.query, session);
    const matches = await findMatches(ctx, type, req.query, 2, session);
    if (matches.length > 1) {
      throw preconditionFailed(`The conditional update matches ${matches.length} ${type} resources; it must match at most one`);
    }
    const repository = ctx.services.repository;
    if (matches.length === 0) {
      if (body.id !== undefined) {
        if (!ID_PATTERN.test(body.id)) throw badRequest(`"${body.id}" is not a valid FHIR id`, 'id');
        const result = await repository.update(validated as Resource & { id: string }, { ifMatch, session });
        return writeResponse(req, ctx, 201, result.resource, `Created ${type}/${body.id}`, warnings);
      }
      const { id: _none, ...withoutId } = validated;
      const result = await repository.create(withoutId as Resource, { session, method: 'PUT' });
      return writeResponse(req, ctx, 201, result.resource, `Created ${type}/${result.resource.id}`, warnings);
    }
    const target = matches[0];
    if (body.id !== undefined && body.id !== target.id) {
      throw badRequest(`The body's id "${body.id}" differs from the matching resource ${type}/${target.id}`, 'id');
    }
    const result = await repository.update({ ...validated, id: target.id as string }, { ifMatch, session });
    return writeResponse(req, ctx, 200, result.resource, `Updated ${type}/${target.id}`, warnings);
  });
}
