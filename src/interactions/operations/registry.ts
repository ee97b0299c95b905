/**
 * Extended operations ($validate, $smp-submit, ...) register here; the dispatcher routes
 * `$name` at system, type and instance level to them, and the CapabilityStatement lists them.
 */
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../fhir/outcome';
import type { FhirRequest, FhirResponse, RequestContext, ScopeRequirement } from '../types';

export type OperationLevel = 'system' | 'type' | 'instance';

export interface OperationInvocation {
  ctx: RequestContext;
  req: FhirRequest;
  level: OperationLevel;
  resourceType?: string;
  id?: string;
  /** The input parameters: the POSTed Parameters, or the query string as valueString parameters. */
  parameters: Parameters;
  /** A POSTed body that is a resource other than Parameters (e.g. the resource to $validate). */
  resource?: Resource;
}

export interface OperationHandler {
  /** Code without the "$", e.g. "validate". */
  code: string;
  /** Canonical URL of the OperationDefinition, listed in the CapabilityStatement. */
  definition: string;
  levels: OperationLevel[];
  /** Types it applies to at type and instance level; undefined means every type. */
  resourceTypes?: string[];
  /** Whether GET may invoke it (only operations that change nothing). */
  allowGet: boolean;
  /** Whether DELETE may invoke it: an operation answering for something it made (a bulk export's status URL). */
  allowDelete?: boolean;
  /**
   * The SMART scopes a caller needs (DESIGN.md decision 7), checked by the dispatcher before
   * invoke. What the operation then reads or writes, it still filters through the access policy.
   */
  scopes: ScopeRequirement[];
  invoke(invocation: OperationInvocation): Promise<FhirResponse>;
}

export class OperationRegistry {
  private readonly handlers: OperationHandler[] = [];

  register(handler: OperationHandler): this {
    this.handlers.push(handler);
    return this;
  }

  find(code: string, level: OperationLevel, resourceType?: string): OperationHandler | undefined {
    return this.handlers.find(
      (h) =>
        h.code === code &&
        h.levels.includes(level) &&
        (level === 'system' || !h.resourceTypes || (resourceType !== undefined && h.resourceTypes.includes(resourceType))),
    );
  }

  list(): readonly OperationHandler[] {
    return this.handlers;
  }
}

/** Turns the request into the operation's input Parameters (FHIR operations.html#request). */
export function operationInput(req: FhirRequest): { parameters: Parameters; resource?: Resource } {
  const fromQuery: ParametersParameter[] = req.query.map(([name, value]) => ({ name, valueString: value }));
  if (req.body === undefined) return { parameters: { resourceType: 'Parameters', parameter: fromQuery } };
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw badRequest('The operation body must be a FHIR resource: a JSON object with a resourceType');
  }
  const body = req.body as Resource;
  if (body.resourceType === 'Parameters') {
    const parameters = body as Parameters;
    return { parameters: { ...parameters, parameter: [...(parameters.parameter ?? []), ...fromQuery] } };
  }
  if (typeof body.resourceType !== 'string') throw badRequest('The operation body must be a FHIR resource');
  return { parameters: { resourceType: 'Parameters', parameter: fromQuery }, resource: body };
}

export function parameterValue(parameters: Parameters, name: string): ParametersParameter | undefined {
  return parameters.parameter?.find((p) => p.name === name);
}
