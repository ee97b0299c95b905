/**
 * Write-time indexing (DESIGN.md decision 3): what the repository stores in `sp` and `sk` for each
 * resource version, and the index that serves `sp` in both engines.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { SearchIndexer } from '../repository/repository';
import type { ResourceDocument } from '../storage/collections';
import type { IndexSpec } from '../storage/port';
import type { CompiledExpression, FhirNode } from './expressions';
import { type EntryValue, valuesOf } from './extract';
import type { ParamDef, SearchParameterRegistry } from './registry';
import type { ParamType, SearchEntry, SortKeys } from './types';

/** One multikey index: every token, reference, uri and exact-string criterion pins both fields. */
export const SEARCH_INDEX: IndexSpec = { 'sp.n': 1, 'sp.k': 1 };

/** Which entry field a parameter type sorts on. */
const SORT_FIELD: Partial<Record<ParamType, keyof EntryValue>> = {
  string: 't',
  token: 'k',
  reference: 'k',
  uri: 'k',
  date: 'lo',
  number: 'v',
  quantity: 'v',
};

/** A parameter with a value expression, and that expression compiled. */
interface IndexedParam {
  param: ParamDef;
  evaluate: CompiledExpression;
}

export class ResourceIndexer implements SearchIndexer {
  /** Per resource type, the parameters to evaluate: looked up once, not on every write. */
  private readonly plans = new Map<string, IndexedParam[]>();
  /** The registry generation the plans were made for: a run-time parameter changes them. */
  private plansGeneration = -1;

  constructor(private readonly registry: SearchParameterRegistry) {}

  /** Stored in every document's `sk.v`; a document with another version needs re-indexing. */
  get version(): string {
    return this.registry.fingerprint;
  }

  indexSpecs(): IndexSpec[] {
    return [SEARCH_INDEX];
  }

  /**
   * What an engine that answers ranges and sorts from B-tree indexes (MongoDB) needs besides
   * SEARCH_INDEX, for one type: each `sp` field a compiled condition bounds (string text, date
   * range ends, numbers), the `_id` order searches page in by default, and the sort keys of the
   * type's date parameters and of `_lastUpdated`, each with the `_id` tie-break. Sorts on other
   * parameters are sorted in memory after the filter; on MongoDB, 64 indexes per collection is the
   * ceiling, and date sorts are the ones worklists and payers use.
   */
  rangeIndexSpecs(type: string): IndexSpec[] {
    const specs: IndexSpec[] = [
      { 'sp.n': 1, 'sp.k': 1, _id: 1 },
      { 'sp.n': 1, 'sp.t': 1 },
      { 'sp.n': 1, 'sp.lo': 1 },
      { 'sp.n': 1, 'sp.hi': 1 },
      { 'sp.n': 1, 'sp.v': 1 },
      { ts: 1, _id: 1 },
      { ts: -1, _id: 1 },
    ];
    for (const { param } of this.plan(type)) {
      if (param.type !== 'date') continue;
      specs.push({ [`sk.a.${param.code}`]: 1, _id: 1 }, { [`sk.d.${param.code}`]: -1, _id: 1 });
    }
    return specs;
  }

  index(resource: Resource): Pick<ResourceDocument, 'sp' | 'sk'> {
    const type = resource.resourceType;
    const sp: SearchEntry[] = [];
    const sk: SortKeys = { a: {}, d: {}, v: this.version };
    for (const { param, evaluate } of this.plan(type)) {
      const nodes = this.evaluate(evaluate, resource);
      if (!nodes.length) continue;
      const before = sp.length;
      if (param.type === 'composite') this.addComposite(param, nodes, sp);
      else this.addValues(param, nodes, sp);
      addSortKeys(param, sp.slice(before), sk);
    }
    return { sp, sk };
  }

  /**
   * The parameter's entries, each distinct value once: equal values match the same searches, and a
   * resource repeating one value thousands of times must not store thousands of search entries.
   */
  private addValues(param: ParamDef, nodes: FhirNode[], sp: SearchEntry[]): void {
    const identifierCode = `${param.code}:identifier`;
    let seen: Set<string> | undefined;
    const first = sp.length;
    for (const node of nodes) {
      for (const value of valuesOf(param.type, node)) {
        let entry: SearchEntry;
        if (value.identifier) {
          const { identifier: _identifier, ...rest } = value;
          entry = { n: identifierCode, ...rest };
        } else {
          entry = { n: param.code, ...value };
        }
        // Most parameters give one value: the set of keys is made only once there is a second.
        if (sp.length > first) {
          if (!seen) seen = new Set(sp.slice(first).map(entryKey));
          const key = entryKey(entry);
          if (seen.has(key)) continue;
          seen.add(key);
        }
        sp.push(entry);
      }
    }
  }

  private plan(type: string): IndexedParam[] {
    if (this.plansGeneration !== this.registry.generation) {
      this.plans.clear();
      this.plansGeneration = this.registry.generation;
    }
    let plan = this.plans.get(type);
    if (!plan) {
      plan = [];
      for (const param of this.registry.forType(type).values()) {
        const evaluate = this.registry.evaluator(type, param);
        if (evaluate) plan.push({ param, evaluate });
      }
      this.plans.set(type, plan);
    }
    return plan;
  }

  private evaluate(evaluate: CompiledExpression, resource: Resource): FhirNode[] {
    try {
      return evaluate(resource);
    } catch {
      return []; // a definition that fails on unusual data must not make the write fail
    }
  }

  /** One entry per base node that has a value for every component: `{ n, c0: [...], c1: [...] }`. */
  private addComposite(param: ParamDef, nodes: FhirNode[], sp: SearchEntry[]): void {
    const components = param.components ?? [];
    for (const node of nodes) {
      if (!node.path || !node.data || typeof node.data !== 'object') continue;
      const entry: SearchEntry = { n: param.code };
      let complete = components.length > 0;
      components.forEach((component, i) => {
        const type = this.registry.definition(component.definition)?.type as ParamType | undefined;
        const evaluator = this.registry.componentEvaluator(node.path as string, component.expression);
        let values: EntryValue[] = [];
        if (type && evaluator) {
          try {
            values = evaluator(node.data as object).flatMap((n) => valuesOf(type, n).map(({ identifier: _i, ...v }) => v));
          } catch {
            values = [];
          }
        }
        if (values.length === 0) complete = false;
        entry[`c${i}`] = values as SearchEntry[];
      });
      if (complete) sp.push(entry);
    }
  }
}

/** Equal for entries that match the same searches (the fields of SearchEntry other than composites'). */
function entryKey(e: SearchEntry): string {
  return `${e.n}\u0000${e.k}\u0000${e.s}\u0000${e.t}\u0000${e.lo}\u0000${e.hi}\u0000${e.v}\u0000${e.u}\u0000${e.y?.join('\u0001')}`;
}

function addSortKeys(param: ParamDef, entries: SearchEntry[], sk: SortKeys): void {
  const field = SORT_FIELD[param.type];
  if (!field) return;
  const own = entries.filter((e) => e.n === param.code);
  let values = own.map((e) => e[field]).filter((v) => v !== undefined) as Array<string | number>;
  // A token known only by its text (CodeableConcept.text) sorts by that text.
  if (values.length === 0 && param.type === 'token') values = own.map((e) => e.t).filter((v) => v !== undefined);
  if (values.length === 0) return;
  let low = values[0];
  let high = values[0];
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  sk.a[param.code] = low;
  sk.d[param.code] = high;
}
