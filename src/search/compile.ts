/**
 * Compiles parsed criteria into one MongoDB filter per resource type. Chains and _has need the ids
 * of other resources first: each link runs its own indexed query (bounded), and its result enters
 * the final filter as `k: { $in: [...] }` or `_id: { $in: [...] }`, so the search itself remains one
 * filter that both engines run.
 */
import { FhirError, issue } from '../fhir/outcome';
import type { ResourceDocument } from '../storage/collections';
import type { Filter } from '../storage/port';
import { type ConditionContext, leafFilter } from './conditions';
import type { Criterion } from './criteria';
import type { SearchEntry } from './types';

/** Current versions only: tombstones never match a search. */
export const ALIVE: Filter = { deleted: { $ne: true } };

/** Most resources one chain or _has link may match before the search is refused as too costly. */
export const MAX_LINKED = 10_000;

export interface LinkedQueries {
  /** Current documents of `type` matching `filter`, at most `limit`, with `sp` when asked. */
  find(type: string, filter: Filter, limit: number, withValues: boolean): Promise<ResourceDocument[]>;
}

export interface CompileContext extends ConditionContext {
  linked: LinkedQueries;
}

export function and(filters: Filter[]): Filter {
  const parts = filters.filter((f) => Object.keys(f).length > 0);
  if (parts.length === 0) return {};
  return parts.length === 1 ? parts[0] : { $and: parts };
}

function tooCostly(name: string, type: string): FhirError {
  return new FhirError(400, [
    issue('error', 'too-costly', `${name}: more than ${MAX_LINKED} ${type} resources match this link; narrow it`, name),
  ]);
}

export async function compileCriterion(criterion: Criterion, ctx: CompileContext): Promise<Filter> {
  switch (criterion.kind) {
    case 'leaf':
      return leafFilter(criterion, ctx);
    case 'chain': {
      const references: string[] = [];
      for (const target of criterion.targets) {
        const filter = and([ALIVE, await compileCriterion(target.next, ctx)]);
        const docs = await ctx.linked.find(target.type, filter, MAX_LINKED + 1, false);
        if (docs.length > MAX_LINKED) throw tooCostly(criterion.name, target.type);
        for (const doc of docs) references.push(`${target.type}/${doc._id}`);
      }
      return { sp: { $elemMatch: { n: criterion.param.code, k: { $in: references } } } };
    }
    case 'has': {
      const filter = and([ALIVE, await compileCriterion(criterion.next, ctx)]);
      const docs = await ctx.linked.find(criterion.sourceType, filter, MAX_LINKED + 1, true);
      if (docs.length > MAX_LINKED) throw tooCostly(criterion.name, criterion.sourceType);
      const prefix = `${criterion.type}/`;
      const ids = new Set<string>();
      for (const doc of docs) {
        for (const entry of (doc.sp ?? []) as SearchEntry[]) {
          if (entry.n === criterion.refParam.code && entry.k?.startsWith(prefix)) ids.add(entry.k.slice(prefix.length));
        }
      }
      return { _id: { $in: [...ids] } };
    }
  }
}
