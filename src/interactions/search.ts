/**
 * Search interactions. Placeholder until src/search lands: every search answers 501 with an
 * OperationOutcome rather than pretending to work.
 */
import { notSupported } from '../fhir/outcome';
import type { FhirRequest, FhirResponse, RequestContext } from './types';

export async function searchType(_ctx: RequestContext, _req: FhirRequest, type: string): Promise<FhirResponse> {
  throw notSupported(`Search on ${type} is not implemented yet`);
}

export async function searchSystem(_ctx: RequestContext, _req: FhirRequest): Promise<FhirResponse> {
  throw notSupported('System-level search is not implemented yet');
}

export async function searchCompartment(
  _ctx: RequestContext,
  _req: FhirRequest,
  compartment: { type: string; id: string },
  type: string,
): Promise<FhirResponse> {
  throw notSupported(`Compartment search of ${compartment.type} for ${type} is not implemented yet`);
}
