/**
 * Sends one rest-hook notification (R4 subscription.html, channel type rest-hook): with an empty
 * payload, a POST with no body to the endpoint; with a payload, the resource itself as an update,
 * PUT {endpoint}/{type}/{id}. The subscriber's channel.header lines go with it. The connection goes
 * to the address the endpoint policy checked (a lookup that answers only that address), redirects
 * are not followed, and every request has a time limit.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import { EndpointRefused, type EndpointPolicy, resolveEndpoint } from './endpoint-policy';
import type { RestHook } from './subscription-resource';

export interface SendOptions {
  policy: EndpointPolicy;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** How an attempt went; `reason` is shown in Subscription.error and logged, so it names no data. */
export type SendResult = { ok: true } | { ok: false; permanent: boolean; reason: string };

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    // Node asks for every address (all: true) when it may try several families; we have one.
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

export async function sendNotification(hook: RestHook, resource: Resource, options: SendOptions): Promise<SendResult> {
  let target;
  try {
    target = await resolveEndpoint(hook.endpoint, options.policy);
  } catch (error) {
    if (error instanceof EndpointRefused) return { ok: false, permanent: true, reason: error.message };
    throw error;
  }
  const url = hook.payload ? new URL(`${target.url.href.replace(/\/+$/, '')}/${resource.resourceType}/${resource.id}`) : target.url;
  const body = hook.payload ? Buffer.from(JSON.stringify(resource)) : Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [name, value] of hook.headers) headers[name] = value;
  headers['Content-Length'] = String(body.length);
  if (hook.payload) headers['Content-Type'] = `${hook.payload}; charset=utf-8`;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const request = transport.request(url, {
      method: hook.payload ? 'PUT' : 'POST',
      headers,
      lookup: pinnedLookup(target.address, target.family),
      agent: false, // a fresh connection to the address just checked; no pooled socket from an earlier lookup
      timeout: options.timeoutMs,
      signal: options.signal,
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ETIMEDOUT' ? `the endpoint did not answer within ${options.timeoutMs} ms` : `the endpoint could not be reached (${error.code ?? error.name})`;
      resolve({ ok: false, permanent: false, reason });
    });
    request.on('response', (response) => {
      response.resume(); // the answer's body is not needed
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve({ ok: true });
      else resolve({ ok: false, permanent: false, reason: `the endpoint answered HTTP ${status}` });
    });
    request.end(body);
  });
}
