/**
 * Sorting and keyset paging. A page is "the next `count` results after the last one the client saw",
 * expressed as a filter on the sort keys and the id, never as an offset: resources inserted while a
 * client pages can neither shift a result onto two pages nor push one off all of them.
 */
import { badRequest } from '../fhir/outcome';
import type { ResourceDocument } from '../storage/collections';
import type { Filter, SortSpec } from '../storage/port';
import type { SortRequest } from './result-params';

export interface SortField {
  path: string;
  dir: 1 | -1;
}

type KeyValue = string | number | null;

export interface Cursor {
  /** 'n': the page after the position; 'p': the page before it. */
  dir: 'n' | 'p';
  /** The sort key values at the position, the id last. */
  values: KeyValue[];
  /** For a search over several types: the type of the resource at the position. */
  type?: string;
}

/** Where a search parameter's sort key lives in the stored document. */
export function sortFields(sort: readonly SortRequest[]): SortField[] {
  const fields: SortField[] = [];
  for (const { code, descending } of sort) {
    const dir = descending ? -1 : 1;
    if (code === '_id') fields.push({ path: '_id', dir });
    else if (code === '_lastUpdated') fields.push({ path: 'ts', dir });
    else fields.push({ path: `sk.${descending ? 'd' : 'a'}.${code}`, dir });
  }
  // the id breaks every tie, so the order is total and a cursor names one position
  if (!fields.some((f) => f.path === '_id')) fields.push({ path: '_id', dir: 1 });
  return fields.slice(0, fields.findIndex((f) => f.path === '_id') + 1);
}

export function mongoSort(fields: readonly SortField[]): SortSpec {
  return Object.fromEntries(fields.map((f) => [f.path, f.dir]));
}

export function reversed(fields: readonly SortField[]): SortField[] {
  return fields.map((f) => ({ path: f.path, dir: f.dir === 1 ? -1 : 1 }));
}

export function keyValues(doc: ResourceDocument, fields: readonly SortField[]): KeyValue[] {
  return fields.map((f) => {
    let value: unknown = doc;
    for (const part of f.path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    return typeof value === 'string' || typeof value === 'number' ? value : null;
  });
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.dir, cursor.values, cursor.type ?? null]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string, fields: readonly SortField[]): Cursor {
  const invalid = () => badRequest('_cursor is not valid for this search; start again from the first page', '_cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [dir, values, type] = parsed as [unknown, unknown, unknown];
  if (dir !== 'n' && dir !== 'p') throw invalid();
  if (!Array.isArray(values) || values.length !== fields.length) throw invalid();
  // only primitives may reach a filter: a crafted cursor cannot smuggle an operator in
  if (!values.every((v) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) throw invalid();
  if (typeof values[values.length - 1] !== 'string') throw invalid();
  if (type !== null && typeof type !== 'string') throw invalid();
  return { dir, values: values as KeyValue[], type: type ?? undefined };
}

/** How rows whose sort keys equal the position's (apart from the id) are treated. */
export type TieRule = 'after-id' | 'exclude' | 'include';

/** Rows strictly after the position in the order `fields` (whose last field is `_id`). */
export function keysetFilter(fields: readonly SortField[], values: readonly KeyValue[], tie: TieRule = 'after-id'): Filter {
  const keys = fields.length - 1;
  const branches: Filter[] = [];
  for (let i = 0; i < keys; i++) {
    const after = afterCondition(fields[i], values[i]);
    if (after) branches.push(andAll([...equalities(fields, values, i), after]));
  }
  if (tie === 'after-id') branches.push(andAll([...equalities(fields, values, keys), { _id: { [fields[keys].dir === 1 ? '$gt' : '$lt']: values[keys] } }]));
  if (tie === 'include') branches.push(andAll(equalities(fields, values, keys)));
  if (branches.length === 0) return { _id: { $in: [] } };
  return branches.length === 1 ? branches[0] : { $or: branches };
}

function equalities(fields: readonly SortField[], values: readonly KeyValue[], upTo: number): Filter[] {
  return fields.slice(0, upTo).map((f, j) => ({ [f.path]: values[j] }));
}

function andAll(filters: Filter[]): Filter {
  if (filters.length === 0) return {};
  return filters.length === 1 ? filters[0] : { $and: filters };
}

/** Missing keys sort first ascending and last descending, as MongoDB orders them. */
function afterCondition(field: SortField, value: KeyValue): Filter | undefined {
  if (field.dir === 1) return value === null ? { [field.path]: { $ne: null } } : { [field.path]: { $gt: value } };
  if (value === null) return undefined;
  return { $or: [{ [field.path]: { $lt: value } }, { [field.path]: null }] };
}

/** Compares two rows' key values the way the engines order them (for merging several types). */
export function compareKeys(a: readonly KeyValue[], b: readonly KeyValue[], fields: readonly SortField[]): number {
  for (let i = 0; i < fields.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    let c: number;
    if (x === null) c = -1;
    else if (y === null) c = 1;
    else if (typeof x !== typeof y) c = typeof x === 'number' ? -1 : 1;
    else c = x < y ? -1 : 1;
    return c * fields[i].dir;
  }
  return 0;
}
