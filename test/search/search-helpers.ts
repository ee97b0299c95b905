/** Small helpers that keep the search tests readable: build a query, run it, read the Bundle. */
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { TestServer } from '../helpers/test-server';

export type Query = Array<[string, string]> | Record<string, string>;

/** `path?query` with every name and value percent-encoded, as a careful client sends it. */
export function url(t: TestServer, path: string, query: Query = []): string {
  const pairs = Array.isArray(query) ? query : Object.entries(query);
  const search = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `${t.base}/${path}${search ? `?${search}` : ''}`;
}

export interface SearchResponse {
  status: number;
  bundle: Bundle;
  outcome: OperationOutcome;
  /** Ids of the matches, in the order returned. */
  ids: string[];
  /** "Type/id" of the included resources, sorted. */
  included: string[];
  /** Diagnostics of the warnings in the Bundle's OperationOutcome entry. */
  warnings: string[];
}

export async function search(t: TestServer, path: string, query: Query = [], headers: Record<string, string> = {}): Promise<SearchResponse> {
  const res = await t.api().get(url(t, path, query)).set(headers);
  return read(res.status, res.body);
}

/** Follows an absolute link URL from a Bundle. */
export async function follow(t: TestServer, link: string): Promise<SearchResponse> {
  const res = await t.api().get(new URL(link).pathname + new URL(link).search);
  return read(res.status, res.body);
}

function read(status: number, body: unknown): SearchResponse {
  const bundle = body as Bundle;
  const entries = bundle.entry ?? [];
  const outcomeEntry = entries.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome | undefined;
  return {
    status,
    bundle,
    outcome: body as OperationOutcome,
    ids: entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string),
    included: entries
      .filter((e) => e.search?.mode === 'include')
      .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
      .sort(),
    warnings: (outcomeEntry?.issue ?? []).map((i) => i.diagnostics ?? ''),
  };
}

/** Asserts a 200 whose matches are exactly `expected` (in any order). */
export async function expectIds(t: TestServer, path: string, query: Query, expected: string[], headers: Record<string, string> = {}): Promise<SearchResponse> {
  const result = await search(t, path, query, headers);
  assert.equal(result.status, 200, JSON.stringify(result.bundle));
  assert.deepEqual([...result.ids].sort(), [...expected].sort(), `${path}?${JSON.stringify(query)}`);
  return result;
}

/** Asserts a 400 OperationOutcome whose issue names `parameter`. */
export async function expectBadRequest(t: TestServer, path: string, query: Query, parameter: string, headers: Record<string, string> = {}): Promise<string> {
  const result = await search(t, path, query, headers);
  assert.equal(result.status, 400, JSON.stringify(result.bundle));
  assert.equal(result.outcome.resourceType, 'OperationOutcome');
  const issue = result.outcome.issue?.[0];
  assert.ok(issue?.expression?.includes(parameter) || issue?.diagnostics?.includes(parameter), JSON.stringify(result.outcome));
  return issue?.diagnostics ?? '';
}
