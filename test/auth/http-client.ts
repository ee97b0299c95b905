/**
 * A FHIR client acting for a registered SMART Backend Services client, for the access-policy tests:
 * the client is registered with the given scopes and Group (through the server's own registry), gets
 * a token from the token endpoint with a signed assertion, and sends every request over HTTP with it,
 * through the real app. Clients are registered once per server and (name, scopes, Group).
 */
import type { SecurityContext } from '../../src/interactions/types';
import { authHeader, bearerToken, registerClient } from '../helpers/auth';
import type { TestServer } from '../helpers/test-server';

export interface Answer {
  status: number;
  // Tests read arbitrary parts of FHIR JSON; the shape is asserted, not typed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface ApiClient {
  /** The registered client's id, as the server knows it (agent of its AuditEvents, meta.source of its writes). */
  id(): Promise<string>;
  get(path: string): Promise<Answer>;
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

type Registered = Promise<{ id: string; token: string }>;
const registered = new WeakMap<TestServer, Map<string, Registered>>();

export function clientFor(t: TestServer, security: SecurityContext): ApiClient {
  const key = `${security.principal}|${security.scopes.join(' ')}|${security.group ?? ''}`;
  let clients = registered.get(t);
  if (!clients) registered.set(t, (clients = new Map()));
  const known = clients;
  const auth = (): Registered => {
    let client = known.get(key);
    if (!client) {
      client = (async () => {
        const c = await registerClient(t, { scopes: security.scopes.join(' '), group: security.group, name: security.principal });
        return { id: c.id, token: await bearerToken(t, c) };
      })();
      known.set(key, client);
    }
    return client;
  };
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const { token } = await auth();
    const url = `${t.base}/${path}`.replace(/\/$/, '');
    let req = t.api()[method.toLowerCase() as 'get'](url || '/').set(authHeader(token));
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    if (body !== undefined) {
      const contentType = headers['Content-Type'] ?? 'application/fhir+json';
      req = req.set('Content-Type', contentType).send(typeof body === 'string' ? body : JSON.stringify(body));
    }
    const res = await req;
    return { status: res.status, body: res.body && Object.keys(res.body).length ? res.body : undefined };
  };
  return { id: async () => (await auth()).id, get: (path) => send('GET', path), send };
}

/** Every resource in an answer; one definition, shared with the in-process client. */
export { resourcesIn } from './client';
