/**
 * A FHIR client acting with a given SecurityContext, for the access-policy tests. Requests go through
 * the real dispatcher and the real per-request services (contextFor), the same path app.ts takes;
 * only the bearer token -> SecurityContext step (authentication, built separately) is skipped.
 */
import type { Resource } from '@medplum/fhirtypes';
import { isFhirError } from '../../src/fhir/outcome';
import { bodyKindOf } from '../../src/http/body';
import { dispatchAudited } from '../../src/interactions/audited-dispatch';
import { contextFor } from '../../src/interactions/guarded-services';
import type { FhirRequest, SecurityContext } from '../../src/interactions/types';
import type { TestServer } from '../helpers/test-server';

export interface Answer {
  status: number;
  // Tests read arbitrary parts of FHIR JSON; the shape is asserted, not typed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface ApiClient {
  security: SecurityContext;
  get(path: string): Promise<Answer>;
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

export function clientFor(t: TestServer, security: SecurityContext): ApiClient {
  const baseUrl = `http://localhost${t.base}`;
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const at = path.indexOf('?');
    const req: FhirRequest = {
      method,
      segments: (at < 0 ? path : path.slice(0, at)).split('/').filter(Boolean).map(decodeURIComponent),
      query: at < 0 ? [] : [...new URLSearchParams(path.slice(at + 1))],
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    };
    if (typeof body === 'string') {
      // A form body (POST _search): its parameters join the query, as app.ts does.
      req.bodyKind = 'form';
      req.query = [...req.query, ...new URLSearchParams(body)];
    } else if (body !== undefined) {
      req.body = body;
      req.bodyKind = bodyKindOf(headers['Content-Type'] ?? 'application/fhir+json');
    }
    try {
      const response = await dispatchAudited(contextFor(t.server.services, baseUrl, security), req);
      return { status: response.status, body: response.body };
    } catch (error) {
      if (isFhirError(error)) return { status: error.status, body: error.outcome };
      throw error;
    }
  };
  return { security, get: (path) => send('GET', path), send };
}

/** Every resource in an answer: the body, Bundle entries and Parameters resources, at any depth. */
export function resourcesIn(body: unknown): Resource[] {
  const found: Resource[] = [];
  const walk = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach(walk);
    const resource = value as Resource & { entry?: Array<{ resource?: unknown }>; parameter?: Array<{ resource?: unknown; part?: unknown }> };
    if (typeof resource.resourceType !== 'string') return;
    found.push(resource);
    for (const entry of resource.entry ?? []) walk(entry.resource);
    walkParameters(resource.parameter);
  };
  const walkParameters = (parameters: Array<{ resource?: unknown; part?: unknown }> | undefined) => {
    for (const parameter of parameters ?? []) {
      walk(parameter.resource);
      walkParameters(parameter.part as typeof parameters);
    }
  };
  walk(body);
  return found.filter((r) => r.resourceType !== 'Bundle' && r.resourceType !== 'Parameters' && r.resourceType !== 'OperationOutcome');
}
