/**
 * Persistent secondary indexes of the embedded engine: for each index declared with createIndex
 * on a collection kept in `documents`, one row per (key, document id) in the `doc_keys` table,
 * whose primary key (ix, key, id) is SQLite's own B-tree. Keys are those of ValueIndex (one per
 * array element for a multikey index over `sp`), so the index only narrows the candidates: every
 * candidate is still tested against the whole filter, and an index can never change a result.
 *
 * Numbers in an index's last field go to `doc_ranges` instead, one row per (prefix, number, id)
 * where the prefix is the other fields' values (a date search's parameter name, say): its B-tree
 * answers a range on that field without reading a document (stored-queries.ts, rangePlan).
 *
 * The keys are written in the same SQLite transaction as the document, so they are exactly as
 * durable as it is, and start-up reads nothing: the B-tree is on disk, paged in on demand.
 * Which specs are served (servedSpec): one or more top-level fields, or two or more fields of the
 * elements of one array; a trailing `_id` is dropped (rows of one key are in id order already).
 * Anything else (a sort key under an object) is left to the in-memory sort.
 */
import type Database from 'better-sqlite3';
import type { IndexSpec } from '../port';
import type { KeyBatch } from './key-batch';
import { type IndexEntries, ValueIndex } from './value-index';

export interface KeyIndex {
  ix: number;
  index: ValueIndex;
}

/** Keys and ranges of one document, per index number: computed where the document object is at hand. */
export type DocumentKeys = Array<[ix: number, keys: string[], ranges: Array<[string, number]>]>;

export const KEY_TABLES = [
  'CREATE TABLE IF NOT EXISTS key_indexes (ix INTEGER PRIMARY KEY, collection TEXT NOT NULL, spec TEXT NOT NULL, UNIQUE (collection, spec))',
  'CREATE TABLE IF NOT EXISTS doc_keys (ix INTEGER NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (ix, key, id)) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS doc_ranges (ix INTEGER NOT NULL, key TEXT NOT NULL, value REAL NOT NULL, id TEXT NOT NULL, PRIMARY KEY (ix, key, value, id)) WITHOUT ROWID',
  // A document's range rows by its id: a dense range is read in _id order, probing each document here (stored-queries.ts, rangeChunk).
  'CREATE INDEX IF NOT EXISTS doc_ranges_by_id ON doc_ranges (id, ix, key, value)',
];

/** The index the engine keeps for a spec (see the module comment), or undefined when it keeps none. */
export function servedSpec(spec: IndexSpec): IndexSpec | undefined {
  const paths = Object.keys(spec);
  while (paths.length > 1 && paths[paths.length - 1] === '_id') paths.pop();
  if (paths.length === 0 || paths.includes('_id')) return undefined;
  const heads = new Set(paths.map((p) => p.split('.')[0]));
  const dotted = paths.filter((p) => p.includes('.')).length;
  const multikey = heads.size === 1 && dotted === paths.length && paths.length >= 2;
  if (!multikey && dotted > 0) return undefined;
  return Object.fromEntries(paths.map((p) => [p, 1]));
}

/** Rows read per query while an index is built from the documents already stored. */
const BUILD_CHUNK = 2000;

export class KeyIndexes {
  private readonly byCollection = new Map<string, KeyIndex[]>();
  private readonly insertKey: Database.Statement;
  private readonly deleteKey: Database.Statement;
  private readonly insertRange: Database.Statement;
  private readonly deleteRange: Database.Statement;
  /** Indexes this connection built from stored documents (tests: a store opened again builds none). */
  builds = 0;
  private readonly selectBody: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertKey = db.prepare('INSERT OR IGNORE INTO doc_keys (ix, key, id) VALUES (?, ?, ?)');
    this.deleteKey = db.prepare('DELETE FROM doc_keys WHERE ix = ? AND key = ? AND id = ?');
    this.insertRange = db.prepare('INSERT OR IGNORE INTO doc_ranges (ix, key, value, id) VALUES (?, ?, ?, ?)');
    this.deleteRange = db.prepare('DELETE FROM doc_ranges WHERE ix = ? AND key = ? AND value = ? AND id = ?');
    this.selectBody = db.prepare('SELECT body FROM documents WHERE collection = ? AND id = ?').pluck();
    for (const [ix, collection, spec] of db.prepare('SELECT ix, collection, spec FROM key_indexes ORDER BY ix').raw().all() as [number, string, string][]) {
      this.declare(collection, ix, JSON.parse(spec) as IndexSpec);
    }
  }

  registered(): boolean {
    return this.byCollection.size > 0;
  }

  of(collection: string): readonly KeyIndex[] {
    return this.byCollection.get(collection) ?? [];
  }

  /** The index kept for a spec (normalised by servedSpec). */
  find(collection: string, spec: IndexSpec): KeyIndex | undefined {
    const key = JSON.stringify(servedSpec(spec) ?? spec);
    return this.of(collection).find((i) => JSON.stringify(i.index.spec) === key);
  }

  /** Makes an index registered by another connection known to this one. */
  declare(collection: string, ix: number, spec: IndexSpec): void {
    const list = this.byCollection.get(collection) ?? [];
    if (list.some((i) => i.ix === ix)) return;
    list.push({ ix, index: new ValueIndex(spec) });
    this.byCollection.set(collection, list);
  }

  /**
   * Registers a new index and files every document already stored under it, in one transaction.
   * The caller makes sure no other write is under way (see EmbeddedEngine.drained).
   */
  register(collection: string, requested: IndexSpec): KeyIndex {
    const existing = this.find(collection, requested);
    if (existing) return existing;
    const spec = servedSpec(requested);
    if (!spec) throw new Error(`No index is kept for ${JSON.stringify(requested)}`);
    const index = new ValueIndex(spec);
    let ix = 0;
    this.db.transaction(() => {
      ix = Number(this.db.prepare('INSERT INTO key_indexes (collection, spec) VALUES (?, ?)').run(collection, JSON.stringify(spec)).lastInsertRowid);
      const chunk = this.db.prepare('SELECT id, body FROM documents WHERE collection = ? AND id > ? ORDER BY id LIMIT ?').raw();
      let after = '';
      for (;;) {
        const rows = chunk.all(collection, after, BUILD_CHUNK) as [string, string][];
        for (const [id, body] of rows) this.insertEntries(ix, id, index.entriesOf(JSON.parse(body) as Record<string, unknown>));
        if (rows.length < BUILD_CHUNK) break;
        after = rows[rows.length - 1][0];
      }
    })();
    this.builds++;
    this.declare(collection, ix, spec);
    return this.find(collection, spec) as KeyIndex;
  }

  /** The keys of a document under every index of its collection. */
  keysOf(collection: string, doc: object): DocumentKeys | undefined {
    const indexes = this.of(collection);
    if (indexes.length === 0) return undefined;
    return indexes.map((i) => {
      const { keys, ranges } = i.index.entriesOf(doc as Record<string, unknown>);
      return [i.ix, keys, ranges];
    });
  }

  /**
   * Before a document is replaced or deleted, inside the writing transaction: removes the keys of
   * the stored version, read back from the row itself so that any connection gets them right. A
   * version written earlier in the same commit has its rows still in the batch: they are dropped.
   */
  removeStored(collection: string, id: string, batch: KeyBatch): void {
    if (batch.drop(collection, id)) return;
    const indexes = this.of(collection);
    if (indexes.length === 0) return;
    const body = this.selectBody.get(collection, id) as string | undefined;
    if (body === undefined) return;
    const doc = JSON.parse(body) as Record<string, unknown>;
    for (const { ix, index } of indexes) {
      const { keys, ranges } = index.entriesOf(doc);
      for (const key of keys) this.deleteKey.run(ix, key, id);
      for (const [key, value] of ranges) this.deleteRange.run(ix, key, value, id);
    }
  }

  /** Inserts the commit's rows, in the tables' key order. */
  insertBatch(batch: KeyBatch): void {
    const { keys, ranges } = batch.sorted();
    for (const [ix, key, id] of keys) this.insertKey.run(ix, key, id);
    for (const [ix, key, value, id] of ranges) this.insertRange.run(ix, key, value, id);
  }

  private insertEntries(ix: number, id: string, entries: IndexEntries): void {
    for (const key of entries.keys) this.insertKey.run(ix, key, id);
    for (const [key, value] of entries.ranges) this.insertRange.run(ix, key, value, id);
  }

  /** Forgets every index: for a file about to be written by a writer that does not maintain them. */
  dropAll(): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM doc_keys');
      this.db.exec('DELETE FROM doc_ranges');
      this.db.exec('DELETE FROM key_indexes');
    })();
    this.byCollection.clear();
  }
}
