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

export type Plan = { kind: 'ids'; ids: string[] } | { kind: 'keys'; driver: KeyCondition; probes: KeyCondition[] } | { kind: 'scan' };

/** Keys counted per condition when several compete to drive the query. */
const ESTIMATE_CAP = 1000;
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

export function planFind(filter: Filter, indexes: readonly KeyIndex[], sqlite: SqliteFile): Plan {
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
  if (conditions.length === 0) return { kind: 'scan' };
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

function boundsSql(column: string, bounds: IdBounds, params: unknown[]): string {
  let sql = '';
  if (bounds.lo) {
    sql += ` AND ${column} ${bounds.lo.inclusive ? '>=' : '>'} ?`;
    params.push(bounds.lo.id);
  }
  if (bounds.hi) {
    sql += ` AND ${column} ${bounds.hi.inclusive ? '<=' : '<'} ?`;
    params.push(bounds.hi.id);
  }
  return sql;
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
