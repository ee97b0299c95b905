/**
 * How a find over a collection kept in SQLite chooses its candidates, and the SQL that streams them
 * in _id order, a chunk at a time (better-sqlite3 allows no other statement on a connection while
 * one is being iterated, and a page of 20 must not read every match).
 *
 * The candidates are always a superset of the matches: the caller tests each against the whole
 * filter, so a plan can only change how long a find takes, never what it returns.
 */
import type { Filter } from '../port';
import type { KeyIndex } from './key-indexes';
import type { SqliteFile } from './sqlite-file';
import { conjuncts } from './value-index';

/** Document ids any match must hold under one index: any of `keys`. */
export interface KeyCondition {
  ix: number;
  keys: string[];
}

export interface IdBounds {
  lo?: { id: string; inclusive: boolean };
  hi?: { id: string; inclusive: boolean };
}

export type Plan =
  | { kind: 'ids'; ids: string[] }
  | { kind: 'keys'; driver: KeyCondition; probes: KeyCondition[] }
  | { kind: 'ranges'; scans: RangeScan[] }
  | { kind: 'rangeIds'; scans: RangeScan[] }
  | { kind: 'scan' };

/** Keys counted per condition when several compete to drive the query. */
const ESTIMATE_CAP = 1000;
/**
 * Most candidates a range condition may give to drive a query nothing pins. With more, matches are
 * dense enough that reading in _id order fills a page sooner than sorting every candidate's id
 * (at 1,000,000 resources: over 1 in 60 statements, 21 matches within ~1,300 documents).
 */
export const RANGE_CAP = 10_000;
/** Most further index conditions checked in SQL for each candidate of the driving one. */
const MAX_PROBES = 3;

export function idBounds(filter: Filter): IdBounds {
  const bounds: IdBounds = {};
  for (const [key, condition] of conjuncts(filter)) {
    if (key !== '_id' || !condition || typeof condition !== 'object' || Array.isArray(condition)) continue;
    for (const [op, value] of Object.entries(condition as Record<string, unknown>)) {
      if (typeof value !== 'string') continue;
      if (op === '$gt' || op === '$gte') {
        const inclusive = op === '$gte';
        if (!bounds.lo || value > bounds.lo.id || (value === bounds.lo.id && !inclusive)) bounds.lo = { id: value, inclusive };
      } else if (op === '$lt' || op === '$lte') {
        const inclusive = op === '$lte';
        if (!bounds.hi || value < bounds.hi.id || (value === bounds.hi.id && !inclusive)) bounds.hi = { id: value, inclusive };
      }
    }
  }
  return bounds;
}

/** The ids a filter pins `_id` to, when it does. */
function pinnedIds(filter: Filter): string[] | undefined {
  for (const [key, condition] of conjuncts(filter)) {
    if (key !== '_id') continue;
    if (typeof condition === 'string') return [condition];
    if (condition && typeof condition === 'object') {
      const c = condition as Record<string, unknown>;
      if (typeof c.$eq === 'string') return [c.$eq];
      if (Array.isArray(c.$in)) return c.$in.filter((v): v is string => typeof v === 'string');
    }
  }
  return undefined;
}

/** `rangeCap`: RANGE_CAP, lowered by tests to reach the dense-range plan with a small store. */
export function planFind(filter: Filter, indexes: readonly KeyIndex[], sqlite: SqliteFile, rangeCap = RANGE_CAP): Plan {
  const ids = pinnedIds(filter);
  if (ids) return { kind: 'ids', ids };
  const conditions: KeyCondition[] = [];
  const seen = new Set<string>();
  const add = (ix: number, keys: string[] | undefined) => {
    if (!keys) return;
    const unique = [...new Set(keys)];
    const signature = `${ix}:${JSON.stringify(unique)}`;
    if (!seen.has(signature)) conditions.push({ ix, keys: unique });
    seen.add(signature);
  };
  const parts = conjuncts(filter);
  for (const { ix, index } of indexes) {
    add(ix, index.keysFor(filter));
    for (const [key, condition] of parts) add(ix, index.keysFor({ [key]: condition }));
  }
  if (conditions.length === 0) return rangePlan(filter, indexes, sqlite, rangeCap) ?? { kind: 'scan' };
  if (conditions.length === 1) return { kind: 'keys', driver: conditions[0], probes: [] };
  const estimated = conditions.map((c) => ({ c, n: estimate(sqlite, c) })).sort((a, b) => a.n - b.n);
  return { kind: 'keys', driver: estimated[0].c, probes: estimated.slice(1, 1 + MAX_PROBES).map((e) => e.c) };
}

function estimate(sqlite: SqliteFile, condition: KeyCondition): number {
  if (condition.keys.length === 0) return 0;
  const sql =
    condition.keys.length === 1
      ? 'SELECT count(*) FROM (SELECT 1 FROM doc_keys WHERE ix = ? AND key = ? LIMIT ?)'
      : 'SELECT count(*) FROM (SELECT 1 FROM doc_keys WHERE ix = ? AND key IN (SELECT value FROM json_each(?)) LIMIT ?)';
  return sqlite.statement(sql).pluck().get(condition.ix, keysParam(condition.keys), ESTIMATE_CAP) as number;
}

function keysParam(keys: string[]): string {
  return keys.length === 1 ? keys[0] : JSON.stringify(keys);
}

function keyMatch(alias: string, condition: KeyCondition, params: unknown[]): string {
  params.push(condition.ix, keysParam(condition.keys));
  return condition.keys.length === 1 ? `${alias}.ix = ? AND ${alias}.key = ?` : `${alias}.ix = ? AND ${alias}.key IN (SELECT value FROM json_each(?))`;
}

/** ` AND column >= ? AND column < ?` (or > / <=) for whichever bounds are given. */
function betweenSql(column: string, lo: { value: unknown; inclusive: boolean } | undefined, hi: typeof lo, params: unknown[]): string {
  let sql = '';
  if (lo) {
    sql += ` AND ${column} ${lo.inclusive ? '>=' : '>'} ?`;
    params.push(lo.value);
  }
  if (hi) {
    sql += ` AND ${column} ${hi.inclusive ? '<=' : '<'} ?`;
    params.push(hi.value);
  }
  return sql;
}

function boundsSql(column: string, { lo, hi }: IdBounds, params: unknown[]): string {
  return betweenSql(column, lo && { value: lo.id, inclusive: lo.inclusive }, hi && { value: hi.id, inclusive: hi.inclusive }, params);
}

/** After a chunk ending at `last`, the bounds of the rest in the direction of travel. */
export function after(bounds: IdBounds, last: string, dir: 1 | -1): IdBounds {
  return dir === 1 ? { ...bounds, lo: { id: last, inclusive: false } } : { ...bounds, hi: { id: last, inclusive: false } };
}

/** One chunk of candidate ids from the key index, in _id order. */
export function keyChunk(sqlite: SqliteFile, plan: Extract<Plan, { kind: 'keys' }>, bounds: IdBounds, dir: 1 | -1, limit: number): string[] {
  const params: unknown[] = [];
  let sql = `SELECT ${plan.driver.keys.length === 1 ? '' : 'DISTINCT '}k.id FROM doc_keys k WHERE ${keyMatch('k', plan.driver, params)}`;
  sql += boundsSql('k.id', bounds, params);
  plan.probes.forEach((probe, i) => {
    sql += ` AND EXISTS (SELECT 1 FROM doc_keys p${i} WHERE ${keyMatch(`p${i}`, probe, params)} AND p${i}.id = k.id)`;
  });
  sql += ` ORDER BY k.id ${dir === 1 ? 'ASC' : 'DESC'} LIMIT ?`;
  params.push(limit);
  return sqlite.statement(sql).pluck().all(...params) as string[];
}

/** One chunk of a whole collection, in _id order: [id, body]. */
export function scanChunk(sqlite: SqliteFile, collection: string, bounds: IdBounds, dir: 1 | -1, limit: number): [string, string][] {
  const params: unknown[] = [collection];
  const sql = `SELECT id, body FROM documents WHERE collection = ?${boundsSql('id', bounds, params)} ORDER BY id ${dir === 1 ? 'ASC' : 'DESC'} LIMIT ?`;
  params.push(limit);
  return sqlite.statement(sql).raw().all(...params) as [string, string][];
}

/** The stored JSON of some documents: [id, body] in no particular order; missing ids are left out. */
export function bodies(sqlite: SqliteFile, collection: string, ids: readonly string[]): [string, string][] {
  if (ids.length === 1) {
    const body = sqlite.statement('SELECT body FROM documents WHERE collection = ? AND id = ?').pluck().get(collection, ids[0]) as string | undefined;
    return body === undefined ? [] : [[ids[0], body]];
  }
  return sqlite
    .statement('SELECT id, body FROM documents WHERE collection = ? AND id IN (SELECT value FROM json_each(?))')
    .raw()
    .all(collection, JSON.stringify(ids)) as [string, string][];
}

export function exists(sqlite: SqliteFile, collection: string, id: string): boolean {
  return sqlite.statement('SELECT 1 FROM documents WHERE collection = ? AND id = ?').get(collection, id) !== undefined;
}

interface Bound {
  value: number;
  inclusive: boolean;
}

/** One range read of `doc_ranges`: an index, a prefix, and bounds on the number. */
export interface RangeScan {
  ix: number;
  prefix: string;
  lo?: Bound;
  hi?: Bound;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

/**
 * The ranges of numbers a condition on one field accepts, or undefined when it may accept a
 * value that is not a number (only numbers are in `doc_ranges`). Operators besides the range ones
 * are left to the filter: the candidates only need to be a superset.
 */
function boundsOf(condition: unknown): Array<Pick<RangeScan, 'lo' | 'hi'>> | undefined {
  if (typeof condition === 'number') return Number.isNaN(condition) ? undefined : [{ lo: { value: condition, inclusive: true }, hi: { value: condition, inclusive: true } }];
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  const c = condition as Record<string, unknown>;
  if ('$eq' in c) return Object.keys(c).length === 1 ? boundsOf(c.$eq) : undefined;
  if ('$in' in c) {
    if (Object.keys(c).length !== 1 || !Array.isArray(c.$in) || c.$in.length === 0) return undefined;
    const all = c.$in.map(boundsOf);
    return all.every((b) => b !== undefined) ? all.flat() : undefined;
  }
  let lo: Bound | undefined;
  let hi: Bound | undefined;
  for (const [op, operand] of Object.entries(c)) {
    if (!RANGE_OPS.has(op)) continue;
    // A range on a string or date operand matches no number (type bracketing): not ours to answer.
    if (typeof operand !== 'number' || Number.isNaN(operand)) return undefined;
    const inclusive = op === '$gte' || op === '$lte';
    if (op === '$gt' || op === '$gte') {
      if (!lo || operand > lo.value || (operand === lo.value && !inclusive)) lo = { value: operand, inclusive };
    } else if (!hi || operand < hi.value || (operand === hi.value && !inclusive)) {
      hi = { value: operand, inclusive };
    }
  }
  return lo || hi ? [{ lo, hi }] : undefined;
}

/** Range reads that together find every document one element condition (or top-level filter) can match. */
function scansFor(element: Record<string, unknown>, indexes: readonly KeyIndex[]): RangeScan[] | undefined {
  for (const { ix, index } of indexes) {
    const bounds = boundsOf(element[index.lastField]);
    const prefixes = bounds && index.prefixesFor(element);
    if (!bounds || !prefixes) continue;
    return prefixes.flatMap((prefix) => bounds.map((b) => ({ ix, prefix, ...b })));
  }
  return undefined;
}

/** Each alternative of an element condition with an $or, the condition's other fields included. */
function alternativesOf(element: Record<string, unknown>): Array<Record<string, unknown>> {
  const { $or, ...rest } = element;
  if (!Array.isArray($or)) return [element];
  return $or.map((alternative) => ({ ...rest, ...(alternative as Record<string, unknown>) }));
}

/** The scans that bound one top-level conjunct through the range indexes, if they can. */
function conjunctScans(key: string, condition: unknown, indexes: readonly KeyIndex[]): RangeScan[] | undefined {
  const multikey = indexes.filter((i) => i.index.arrayField === key && i.index.fields.length >= 2);
  if (multikey.length && condition && typeof condition === 'object' && '$elemMatch' in condition) {
    const element = (condition as { $elemMatch: unknown }).$elemMatch;
    if (!element || typeof element !== 'object' || Array.isArray(element)) return undefined;
    const scans: RangeScan[] = [];
    for (const alternative of alternativesOf(element as Record<string, unknown>)) {
      const found = scansFor(alternative, multikey);
      if (!found) return undefined; // an alternative no index bounds: it could match anything
      scans.push(...found);
    }
    return scans;
  }
  const topLevel = indexes.filter((i) => !i.index.arrayField && i.index.fields.length === 1 && i.index.lastField === key);
  return topLevel.length ? scansFor({ [key]: condition }, topLevel) : undefined;
}

/**
 * How a filter bounded by a range index is best read, once no key pins it:
 * - at most `rangeCap` candidates (counted in SQL, not read): their ids straight from `doc_ranges`,
 *   a chunk at a time in _id order (rangeIdsChunk), so a page of 20 sorts in SQLite instead of
 *   materialising and sorting thousands of ids here;
 * - more: matches are dense, and the documents are read in _id order, each kept only if its
 *   `doc_ranges` rows (found by id, doc_ranges_by_id) fall in the range (rangeChunk); no document is
 *   parsed to find out, so a page of 20 out of 1 in 60 costs ~1,300 index probes;
 * - a caller that needs every match (rangeCap Infinity: a count, a sort on another key) gets every
 *   candidate's id collected once (kind 'ids').
 * Undefined when no conjunct is bounded by a range index.
 */
export function rangePlan(
  filter: Filter,
  indexes: readonly KeyIndex[],
  sqlite: SqliteFile,
  rangeCap = RANGE_CAP,
): Extract<Plan, { kind: 'ids' | 'ranges' | 'rangeIds' }> | undefined {
  let dense: RangeScan[] | undefined;
  for (const [key, condition] of conjuncts(filter)) {
    const scans = conjunctScans(key, condition, indexes);
    if (!scans) continue;
    if (!Number.isFinite(rangeCap)) {
      const ids = new Set<string>();
      for (const scan of scans) {
        const params: unknown[] = [scan.ix, scan.prefix];
        for (const id of sqlite.statement(`SELECT id FROM doc_ranges WHERE ix = ? AND key = ?${valueBoundsSql('value', scan, params)}`).pluck().all(...params) as string[]) ids.add(id);
      }
      return { kind: 'ids', ids: [...ids] };
    }
    let candidates = 0;
    for (const scan of scans) {
      const params: unknown[] = [scan.ix, scan.prefix];
      const sql = `SELECT count(*) FROM (SELECT 1 FROM doc_ranges WHERE ix = ? AND key = ?${valueBoundsSql('value', scan, params)} LIMIT ?)`;
      params.push(rangeCap + 1);
      candidates += sqlite.statement(sql).pluck().get(...params) as number;
      if (candidates > rangeCap) break;
    }
    if (candidates <= rangeCap) return { kind: 'rangeIds', scans };
    dense ??= scans;
  }
  return dense ? { kind: 'ranges', scans: dense } : undefined;
}

/** The SQL condition on `doc_ranges` (as `alias`) that one of the scans accepts. */
function acceptedSql(alias: string, scans: readonly RangeScan[], params: unknown[]): string {
  const accepted = scans.map((scan) => {
    params.push(scan.ix, scan.prefix);
    return `(${alias}.ix = ? AND ${alias}.key = ?${valueBoundsSql(`${alias}.value`, scan, params)})`;
  });
  return accepted.join(' OR ');
}

/** One chunk of the ids the scans give, in _id order (few enough to sort in SQL: see rangePlan). */
export function rangeIdsChunk(sqlite: SqliteFile, plan: Extract<Plan, { kind: 'rangeIds' }>, bounds: IdBounds, dir: 1 | -1, limit: number): string[] {
  const params: unknown[] = [];
  let sql = `SELECT DISTINCT r.id FROM doc_ranges r WHERE (${acceptedSql('r', plan.scans, params)})`;
  sql += boundsSql('r.id', bounds, params);
  sql += ` ORDER BY r.id ${dir === 1 ? 'ASC' : 'DESC'} LIMIT ?`;
  params.push(limit);
  return sqlite.statement(sql).pluck().all(...params) as string[];
}

function valueBoundsSql(column: string, scan: Pick<RangeScan, 'lo' | 'hi'>, params: unknown[]): string {
  return betweenSql(column, scan.lo, scan.hi, params);
}

/** One chunk of the collection's ids, in _id order, whose range rows one of the scans accepts. */
export function rangeChunk(
  sqlite: SqliteFile,
  collection: string,
  plan: Extract<Plan, { kind: 'ranges' }>,
  bounds: IdBounds,
  dir: 1 | -1,
  limit: number,
): string[] {
  const params: unknown[] = [collection];
  let sql = `SELECT d.id FROM documents d WHERE d.collection = ?${boundsSql('d.id', bounds, params)}`;
  sql += ` AND EXISTS (SELECT 1 FROM doc_ranges r WHERE r.id = d.id AND (${acceptedSql('r', plan.scans, params)}))`;
  sql += ` ORDER BY d.id ${dir === 1 ? 'ASC' : 'DESC'} LIMIT ?`;
  params.push(limit);
  return sqlite.statement(sql).pluck().all(...params) as string[];
}
