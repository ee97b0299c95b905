/**
 * In-memory hash indexes of the embedded engine, declared through createIndex just as MongoDB
 * indexes are. They only narrow the candidates: mingo still evaluates the whole filter on each one,
 * so an index can never change a result, only the time it takes.
 *
 * An index over paths that share an array field (e.g. `sp.n` and `sp.v`) is multikey: one key per
 * array element, used by `$elemMatch` conditions that pin every indexed field.
 */
import type { Filter, IndexSpec } from '../port';

type Primitive = string | number | boolean | null;

const SEPARATOR = '\u0000';

function isPrimitive(value: unknown): value is Primitive {
  const type = typeof value;
  return value === null || type === 'string' || type === 'number' || type === 'boolean';
}

/** The values a condition accepts for one field, when it is an equality or an $in of primitives. */
function acceptedValues(condition: unknown): Primitive[] | undefined {
  if (isPrimitive(condition)) return [condition];
  if (condition && typeof condition === 'object' && !Array.isArray(condition)) {
    const ops = Object.keys(condition);
    const record = condition as Record<string, unknown>;
    if (ops.length === 1 && ops[0] === '$eq' && isPrimitive(record.$eq)) return [record.$eq];
    if (ops.length === 1 && ops[0] === '$in' && Array.isArray(record.$in) && record.$in.every(isPrimitive)) {
      return record.$in as Primitive[];
    }
  }
  return undefined;
}

/** Top-level conjuncts of a filter, flattening `$and`. */
export function conjuncts(filter: Filter): Array<[string, unknown]> {
  const result: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) result.push(...conjuncts(part as Filter));
    } else {
      result.push([key, value]);
    }
  }
  return result;
}

function cartesian(lists: Primitive[][]): string[] {
  let keys = [''];
  lists.forEach((values, i) => {
    const next: string[] = [];
    for (const prefix of keys) {
      for (const v of values) next.push(i === 0 ? encode(v) : prefix + SEPARATOR + encode(v));
    }
    keys = next;
  });
  return keys;
}

function encode(value: Primitive): string {
  return typeof value === 'string' ? value : `${typeof value}:${String(value)}`;
}

/** Where a document is filed in one index: keys, and [prefix, number] pairs (see entriesOf). */
export interface IndexEntries {
  keys: string[];
  ranges: Array<[prefix: string, value: number]>;
}

/**
 * Numbers a range index holds: finite ones, the only numbers JSON (and so a stored document) can
 * hold. Others are keys, as they always were, so an index entry is the same computed from the
 * document being written or from its stored JSON.
 */
function isRangeValue(value: Primitive): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export class ValueIndex {
  /** The array field shared by every path, for multikey indexes; undefined for top-level fields. */
  readonly arrayField: string | undefined;
  readonly fields: string[];
  /** `fields` split on dots once, not on every document (index building is start-up time). */
  private readonly fieldParts: string[][];
  private readonly entries = new Map<string, Set<string>>();

  constructor(readonly spec: IndexSpec) {
    const paths = Object.keys(spec);
    const heads = new Set(paths.map((p) => p.split('.')[0]));
    if (heads.size === 1 && paths.every((p) => p.includes('.'))) {
      this.arrayField = [...heads][0];
      this.fields = paths.map((p) => p.slice(p.indexOf('.') + 1));
    } else {
      this.arrayField = undefined;
      this.fields = paths;
    }
    this.fieldParts = this.fields.map((f) => f.split('.'));
  }

  /** The keys a document is filed under (one per array element for a multikey index). */
  keysOf(doc: Record<string, unknown>): string[] {
    return this.entriesOf(doc).keys;
  }

  /**
   * What a document is filed under: keys for every element whose last indexed field holds a string,
   * boolean or null (the other fields' values joined with it), and [prefix, number] pairs for those
   * whose last field holds a number, so that a B-tree over them answers ranges on that field.
   */
  entriesOf(doc: Record<string, unknown>): IndexEntries {
    const entries: IndexEntries = { keys: [], ranges: [] };
    const keys = new Set<string>();
    const ranges = new Set<string>();
    const add = (row: unknown) => this.addRowEntries(row, keys, ranges, entries.ranges);
    if (this.arrayField) {
      const container = doc[this.arrayField];
      if (Array.isArray(container)) for (const row of container) add(row);
      else if (container && typeof container === 'object') add(container);
    } else {
      add(doc);
    }
    entries.keys = [...keys];
    return entries;
  }

  /** The entries of one row: built directly when every field holds one value (the usual case). */
  private addRowEntries(row: unknown, keys: Set<string>, seen: Set<string>, ranges: Array<[string, number]>): void {
    if (!row || typeof row !== 'object') return;
    const last = this.fieldParts.length - 1;
    let prefix = '';
    let lists: Primitive[][] | undefined;
    for (let i = 0; i < last; i++) {
      const value = readParts(row as Record<string, unknown>, this.fieldParts[i]);
      if (isPrimitive(value)) {
        if (lists) lists.push([value]);
        else prefix = i === 0 ? encode(value) : prefix + SEPARATOR + encode(value);
      } else if (Array.isArray(value) && value.length > 0 && value.every(isPrimitive)) {
        // Several values: fall back to the cartesian product of every field's values.
        lists ??= this.fieldParts.slice(0, i).map((parts) => [readParts(row as Record<string, unknown>, parts) as Primitive]);
        lists.push(value as Primitive[]);
      } else {
        return;
      }
    }
    const value = readParts(row as Record<string, unknown>, this.fieldParts[last]);
    let values: Primitive[];
    if (isPrimitive(value)) values = [value];
    else if (Array.isArray(value) && value.length > 0 && value.every(isPrimitive)) values = value as Primitive[];
    else return;
    const prefixes = lists ? cartesian(lists) : [prefix];
    for (const v of values) {
      for (const p of prefixes) {
        if (isRangeValue(v)) {
          const signature = `${p}${SEPARATOR}${v}`;
          if (!seen.has(signature)) {
            seen.add(signature);
            ranges.push([p, v]);
          }
        } else {
          keys.add(last === 0 ? encode(v) : p + SEPARATOR + encode(v));
        }
      }
    }
  }

  add(id: string, doc: Record<string, unknown>): void {
    for (const key of this.keysOf(doc)) {
      let ids = this.entries.get(key);
      if (!ids) this.entries.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  remove(id: string, doc: Record<string, unknown>): void {
    for (const key of this.keysOf(doc)) {
      const ids = this.entries.get(key);
      if (!ids) continue;
      ids.delete(id);
      if (ids.size === 0) this.entries.delete(key);
    }
  }

  /** The keys a matching document must be filed under (any of them), or undefined when the filter does not pin them. */
  keysFor(filter: Filter): string[] | undefined {
    const lists = this.pinnedValues(filter);
    // Numbers in the last field are filed as ranges, not keys (rangeBounds answers them).
    if (!lists || lists[lists.length - 1].some(isRangeValue)) return undefined;
    return cartesian(lists);
  }

  /** Candidate ids for the filter, or undefined when this index cannot narrow it. */
  candidates(filter: Filter): Set<string> | undefined {
    const keys = this.keysFor(filter);
    if (!keys) return undefined;
    if (keys.length === 1) return this.entries.get(keys[0]) ?? new Set();
    const result = new Set<string>();
    for (const key of keys) for (const id of this.entries.get(key) ?? []) result.add(id);
    return result;
  }

  /**
   * The prefixes (values of every field but the last, joined) that a condition on one element (an
   * $elemMatch's object, or a top-level filter) pins, or undefined when it leaves one of them open.
   */
  prefixesFor(element: Record<string, unknown>): string[] | undefined {
    const lists: Primitive[][] = [];
    for (const field of this.fields.slice(0, -1)) {
      const values = acceptedValues(element[field]);
      if (!values) return undefined;
      lists.push(values);
    }
    return lists.length ? cartesian(lists) : [''];
  }

  /** The last indexed field, as a condition names it inside an element (or at the top level). */
  get lastField(): string {
    return this.fields[this.fields.length - 1];
  }

  private pinnedValues(filter: Filter): Primitive[][] | undefined {
    for (const [key, condition] of conjuncts(filter)) {
      if (this.arrayField) {
        if (key === this.arrayField && condition && typeof condition === 'object' && '$elemMatch' in condition) {
          const match = (condition as { $elemMatch: Record<string, unknown> }).$elemMatch;
          const lists = this.fields.map((f) => acceptedValues(match[f]));
          if (lists.every((l) => l !== undefined)) return lists as Primitive[][];
        }
        if (this.fields.length === 1 && key === `${this.arrayField}.${this.fields[0]}`) {
          const values = acceptedValues(condition);
          if (values) return [values];
        }
      }
    }
    if (!this.arrayField) {
      const map = new Map(conjuncts(filter));
      const lists = this.fields.map((f) => acceptedValues(map.get(f)));
      if (lists.every((l) => l !== undefined)) return lists as Primitive[][];
    }
    return undefined;
  }
}

function readParts(obj: Record<string, unknown>, parts: readonly string[]): unknown {
  let current: unknown = obj;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
