/**
 * _include and _revinclude (FHIR search.html#include), with :iterate and `*`. Included resources are
 * fetched by id (or, for _revinclude, through the same reference index searches use), never by scan.
 */
import { badRequest } from '../fhir/outcome';
import type { ResourceDocument } from '../storage/collections';
import type { Filter } from '../storage/port';
import { ALIVE } from './compile';
import type { SearchParameterRegistry } from './registry';
import type { IncludeRequest } from './result-params';
import type { SearchEntry } from './types';

/** Most resources one search may include, so one request cannot pull in a whole database. */
export const MAX_INCLUDED = 1000;
/** Rounds of :iterate, enough for any MTM graph (Task -> CarePlan -> DetectedIssue -> MedicationStatement). */
const MAX_ITERATIONS = 5;

export interface TypedDocument {
  type: string;
  doc: ResourceDocument;
}

export interface IncludeQueries {
  find(type: string, filter: Filter, limit: number): Promise<ResourceDocument[]>;
}

export interface IncludeResult {
  included: TypedDocument[];
  truncated: boolean;
}

const key = (type: string, id: string) => `${type}/${id}`;

export function checkIncludes(registry: SearchParameterRegistry, requests: readonly IncludeRequest[], name: string): void {
  for (const request of requests) {
    if (request.code === '*') continue;
    const param = registry.get(request.sourceType, request.code);
    if (!param || param.type !== 'reference') {
      throw badRequest(`${name}: ${request.sourceType} has no reference parameter "${request.code}"`, name);
    }
    if (request.targetType && param.targets.length && !param.targets.includes(request.targetType)) {
      throw badRequest(`${name}: ${request.sourceType}.${request.code} cannot refer to ${request.targetType}`, name);
    }
  }
}

export async function resolveIncludes(
  registry: SearchParameterRegistry,
  queries: IncludeQueries,
  matches: readonly TypedDocument[],
  includes: readonly IncludeRequest[],
  revincludes: readonly IncludeRequest[],
): Promise<IncludeResult> {
  const seen = new Set(matches.map((m) => key(m.type, m.doc._id)));
  const included: TypedDocument[] = [];
  let current: readonly TypedDocument[] = matches;
  for (let round = 0; round < MAX_ITERATIONS && current.length; round++) {
    const active = (r: IncludeRequest) => round === 0 || r.iterate;
    const found = [
      ...(await forward(registry, queries, current, includes.filter(active))),
      ...(await reverse(queries, current, revincludes.filter(active))),
    ];
    const fresh: TypedDocument[] = [];
    for (const item of found) {
      const k = key(item.type, item.doc._id);
      if (seen.has(k)) continue;
      seen.add(k);
      if (included.length >= MAX_INCLUDED) return { included, truncated: true };
      included.push(item);
      fresh.push(item);
    }
    current = fresh;
  }
  return { included, truncated: false };
}

function referenceCodes(registry: SearchParameterRegistry, type: string, request: IncludeRequest): string[] {
  if (request.sourceType !== '*' && request.sourceType !== type) return [];
  if (request.code !== '*') return [request.code];
  return [...registry.forType(type).values()].filter((p) => p.type === 'reference').map((p) => p.code);
}

async function forward(
  registry: SearchParameterRegistry,
  queries: IncludeQueries,
  from: readonly TypedDocument[],
  requests: readonly IncludeRequest[],
): Promise<TypedDocument[]> {
  const idsByType = new Map<string, Set<string>>();
  for (const { type, doc } of from) {
    for (const request of requests) {
      const codes = referenceCodes(registry, type, request);
      if (!codes.length) continue;
      for (const entry of (doc.sp ?? []) as SearchEntry[]) {
        if (!codes.includes(entry.n) || !entry.k) continue;
        const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(entry.k);
        if (!m || (request.targetType && m[1] !== request.targetType)) continue;
        let ids = idsByType.get(m[1]);
        if (!ids) idsByType.set(m[1], (ids = new Set()));
        ids.add(m[2]);
      }
    }
  }
  const results: TypedDocument[] = [];
  for (const [type, ids] of idsByType) {
    const docs = await queries.find(type, { $and: [ALIVE, { _id: { $in: [...ids] } }] }, MAX_INCLUDED + 1);
    results.push(...docs.map((doc) => ({ type, doc })));
  }
  return results;
}

async function reverse(queries: IncludeQueries, to: readonly TypedDocument[], requests: readonly IncludeRequest[]): Promise<TypedDocument[]> {
  if (!to.length) return [];
  const references = to.map(({ type, doc }) => key(type, doc._id));
  const results: TypedDocument[] = [];
  for (const request of requests) {
    const wanted = request.targetType ? references.filter((r) => r.startsWith(`${request.targetType}/`)) : references;
    if (!wanted.length) continue;
    const filter = { $and: [ALIVE, { sp: { $elemMatch: { n: request.code, k: { $in: wanted } } } }] };
    const docs = await queries.find(request.sourceType, filter, MAX_INCLUDED + 1);
    results.push(...docs.map((doc) => ({ type: request.sourceType, doc })));
  }
  return results;
}
