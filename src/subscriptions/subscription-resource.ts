/**
 * What an R4 Subscription asks for, and the checks made when one is written (422 with the reason):
 * a search criteria this server understands, channel.type rest-hook, an endpoint the endpoint policy
 * allows, a payload that is empty or FHIR JSON, and headers that are plain "Name: value" lines.
 */
import type { Subscription } from '@medplum/fhirtypes';
import { isKnownResourceType } from '../fhir/definitions';
import { FhirError, issue } from '../fhir/outcome';
import { CriteriaParser, UnknownParameter } from '../search/criteria';
import { isResultParameter } from '../search/result-params';
import { checkEndpointUrl, EndpointRefused, type EndpointPolicy } from './endpoint-policy';

/** The payload media types sent as the resource itself (R4 channel.payload; empty sends no body). */
export const FHIR_JSON_PAYLOADS = ['application/fhir+json', 'application/json'];

/** Headers a subscriber may not set: the server owns the request's framing and target. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'te', 'trailer', 'keep-alive', 'proxy-authorization']);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface Criteria {
  type: string;
  query: Array<[string, string]>;
}

/** A Subscription's notification channel, ready to deliver on. */
export interface RestHook {
  id: string;
  criteria: Criteria;
  endpoint: string;
  /** Undefined: an empty notification (a POST with no body). */
  payload?: string;
  headers: Array<[string, string]>;
}

function unprocessable(message: string, expression: string): FhirError {
  return new FhirError(422, [issue('error', 'business-rule', message, expression)]);
}

/** "Task?code=...|cmr&status=completed" as a type and its parameters (decoded as a query string is). */
export function parseCriteria(criteria: string | undefined): Criteria {
  const [type, query = ''] = (criteria ?? '').split(/\?(.*)/s, 2);
  if (!type || !isKnownResourceType(type)) {
    throw unprocessable(`Subscription.criteria must start with a resource type, as in "Task?status=completed"; got "${criteria ?? ''}"`, 'Subscription.criteria');
  }
  return { type, query: [...new URLSearchParams(query)] };
}

/** A header line "Name: value" as a pair; throws for anything else. */
export function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon).trim() : '';
  const value = colon > 0 ? line.slice(colon + 1).trim() : '';
  if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
    throw unprocessable('Each Subscription.channel.header must be one line "Name: value"', 'Subscription.channel.header');
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw unprocessable(`Subscription.channel.header may not set ${name}: the server sets it`, 'Subscription.channel.header');
  }
  return [name, value];
}

/**
 * Refuses (422) a Subscription this server cannot honour. Criteria parameters are parsed by the
 * search layer, so a criteria that could never be evaluated is refused now, not at the first write.
 */
export function checkSubscription(subscription: Subscription, parser: CriteriaParser, policy: EndpointPolicy): RestHook {
  const criteria = parseCriteria(subscription.criteria);
  for (const [name, value] of criteria.query) {
    if (isResultParameter(name)) throw unprocessable(`Subscription.criteria may hold search criteria only, not ${name}`, 'Subscription.criteria');
    try {
      parser.parse(criteria.type, name, value);
    } catch (error) {
      if (error instanceof UnknownParameter) throw unprocessable(`Subscription.criteria: ${error.message}`, 'Subscription.criteria');
      if (error instanceof FhirError) throw unprocessable(`Subscription.criteria: ${error.outcome.issue?.[0]?.diagnostics ?? 'not a valid search'}`, 'Subscription.criteria');
      throw error;
    }
  }
  const channel = subscription.channel;
  if (channel?.type !== 'rest-hook') {
    throw unprocessable(`Only channel.type rest-hook is supported, not ${channel?.type ?? '(none)'}`, 'Subscription.channel.type');
  }
  if (!channel.endpoint) throw unprocessable('A rest-hook Subscription needs channel.endpoint', 'Subscription.channel.endpoint');
  try {
    checkEndpointUrl(channel.endpoint, policy);
  } catch (error) {
    if (error instanceof EndpointRefused) throw unprocessable(error.message, 'Subscription.channel.endpoint');
    throw error;
  }
  const payload = channel.payload?.split(';')[0].trim().toLowerCase();
  if (payload && !FHIR_JSON_PAYLOADS.includes(payload)) {
    throw unprocessable(`channel.payload must be empty or application/fhir+json, not ${channel.payload}`, 'Subscription.channel.payload');
  }
  return {
    id: subscription.id ?? '',
    criteria,
    endpoint: channel.endpoint,
    payload: payload || undefined,
    headers: (channel.header ?? []).map(parseHeader),
  };
}
