/**
 * The durable half of the embedded engine: one SQLite database in WAL mode. Collections keep one
 * row per document in `documents`, with their key indexes in `doc_keys` (key-indexes.ts); collections
 * with a layout (history) get a table of their own with the fields their queries select on as columns.
 *
 * Layout (user_version 2): every table is a rowid table, so rows are appended in write order, and
 * the document keys live in small unique indexes. Keys are random UUIDs: as the primary key of a
 * clustered (WITHOUT ROWID) table they scattered ~1 KB rows over random pages, and each write dirtied
 * several 4 KB pages that WAL then wrote twice; measured here, that halved write throughput.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KeyBatch } from './key-batch';
import { type DocumentKeys, KEY_TABLES, KeyIndexes } from './key-indexes';

export interface DiskCollectionLayout {
  /** Document fields copied into columns so that SQL can select and order on them. */
  columns: readonly string[];
  /** Indexes over several columns (or `_id`), for queries that select on the first and order on the rest. */
  indexes?: ReadonlyArray<readonly string[]>;
}

export type PendingWrite =
  | { kind: 'upsert'; collection: string; id: string; json: string; columns?: Record<string, unknown>; keys?: DocumentKeys }
  | { kind: 'delete'; collection: string; id: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** 3: numbers in an index's last field are ranges (doc_ranges), no longer keys. */
const LAYOUT_VERSION = 3;
/** Names everything a file holds (layout, key index tables): tools that keep stores (the bench) compare it. */
export const STORAGE_FORMAT = `layout-${LAYOUT_VERSION}+keys-3+history-2`;
const MAX_CACHED_STATEMENTS = 256;

export function tableName(collection: string): string {
  const name = `c_${collection.replace(/[^A-Za-z0-9_]/g, '_')}`;
  if (!IDENTIFIER.test(name)) throw new Error(`Unusable collection name ${collection}`);
  return name;
}

export class SqliteFile {
  readonly db: Database.Database;
  /** The persistent secondary indexes over `documents` (key-indexes.ts). */
  readonly keys: KeyIndexes;
  private readonly upsertDocument: Database.Statement;
  private readonly deleteDocument: Database.Statement;
  private readonly diskUpserts = new Map<string, Database.Statement>();
  private readonly diskLayouts = new Map<string, DiskCollectionLayout>();
  /** Prepared statements by SQL text: preparing costs more than running a simple statement. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(dataDir: string, synchronous: 'NORMAL' | 'FULL') {
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, 'mtm-fhir.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a committed transaction survives the process being killed (the WAL is in the OS);
    // FULL also survives a power cut, at the cost of an fsync per commit.
    this.db.pragma(`synchronous = ${synchronous}`);
    // Checkpoint every ~40 MB of WAL rather than SQLite's 4 MB default: each checkpoint copies pages
    // back and syncs, and doing it 10x less often cut write cost per resource by a third here.
    this.db.pragma('wal_autocheckpoint = 10000');
    // 32 MB of pages per connection (SQLite's default is 2 MB): the key index B-tree takes writes all
    // over its leaves, and a search walks its upper levels on every query.
    this.db.pragma('cache_size = -32768');
    this.migrate();
    for (const sql of KEY_TABLES) this.db.exec(sql);
    this.keys = new KeyIndexes(this.db);
    this.upsertDocument = this.db.prepare(
      'INSERT INTO documents (collection, id, body) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body',
    );
    this.deleteDocument = this.db.prepare('DELETE FROM documents WHERE collection = ? AND id = ?');
  }

  /** Creates the layout, or converts a version-1 file (clustered by key) in place. */
  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= LAYOUT_VERSION) return;
    if (version === 2) {
      // Same tables; the key indexes filed numbers as keys. Forgotten here, each is built again
      // from the documents by the first createIndex that asks for it (once).
      this.db.transaction(() => {
        this.db.exec('DROP TABLE IF EXISTS doc_keys');
        this.db.exec('DROP TABLE IF EXISTS key_indexes');
        this.db.pragma(`user_version = ${LAYOUT_VERSION}`);
      })();
      return;
    }
    const tables = new Set((this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").raw().all() as [string][]).map((r) => r[0]));
    this.db.transaction(() => {
      if (tables.has('documents')) this.db.exec('ALTER TABLE documents RENAME TO documents_v1');
      this.db.exec(`CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL)`);
      this.db.exec('CREATE UNIQUE INDEX documents_key ON documents (collection, id)');
      if (tables.has('documents')) {
        this.db.exec('INSERT INTO documents (collection, id, body) SELECT collection, id, body FROM documents_v1');
        this.db.exec('DROP TABLE documents_v1');
      }
      // Version-1 disk tables are rebuilt on first use by ensureDiskCollection.
      for (const table of tables) {
        if (!table.startsWith('c_')) continue;
        // Index names are global: drop the old ones so the new table can create its own.
        const indexes = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").raw().all(table) as [string][];
        for (const [index] of indexes) this.db.exec(`DROP INDEX "${index}"`);
        this.db.exec(`ALTER TABLE ${table} RENAME TO ${table}_v1`);
      }
      this.db.pragma(`user_version = ${LAYOUT_VERSION}`);
    })();
  }

  /** A cached prepared statement. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      // `IN (?, ?, …)` lists make the texts open-ended: bound the cache rather than let it grow.
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  ensureDiskCollection(collection: string, layout: DiskCollectionLayout): void {
    if (this.diskLayouts.has(collection)) return;
    const table = tableName(collection);
    for (const column of layout.columns) {
      if (!IDENTIFIER.test(column)) throw new Error(`Unusable column name ${column}`);
    }
    const columns = layout.columns.map((c) => `, "${c}"`).join('');
    this.db.transaction(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL${columns})`);
      for (const column of layout.columns) {
        // A column that leads one of the layout's indexes is served by it: its own index would only
        // be one more B-tree for every write to update (history: type and ts).
        if (layout.indexes?.some((index) => index[0] === column)) this.db.exec(`DROP INDEX IF EXISTS ${table}_${column}`);
        else this.db.exec(`CREATE INDEX IF NOT EXISTS ${table}_${column} ON ${table} ("${column}")`);
      }
      for (const index of layout.indexes ?? []) {
        if (!index.every((column) => IDENTIFIER.test(column))) throw new Error(`Unusable index ${index.join(', ')}`);
        this.db.exec(`CREATE INDEX IF NOT EXISTS ${table}_${index.join('_')} ON ${table} (${index.map((c) => `"${c}"`).join(', ')})`);
      }
      const old = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(`${table}_v1`);
      if (old) {
        // Oldest first, so the new table's write order matches the old one's.
        this.db.exec(`INSERT OR REPLACE INTO ${table} (_id, body${columns}) SELECT _id, body${columns} FROM ${table}_v1 ORDER BY rowid`);
        this.db.exec(`DROP TABLE ${table}_v1`);
      }
    })();
    const placeholders = layout.columns.map(() => ', ?').join('');
    this.diskUpserts.set(collection, this.db.prepare(`INSERT OR REPLACE INTO ${table} (_id, body${columns}) VALUES (?, ?${placeholders})`));
    this.diskLayouts.set(collection, layout);
  }

  diskLayout(collection: string): DiskCollectionLayout | undefined {
    return this.diskLayouts.get(collection);
  }

  /** Writes every pending change in one SQLite transaction: all of them are durable, or none. */
  commit(writes: readonly PendingWrite[]): void {
    if (writes.length === 0) return;
    this.db.transaction(() => {
      const batch = new KeyBatch();
      for (const write of writes) this.apply(write, batch);
      this.keys.insertBatch(batch);
    })();
  }

  private apply(write: PendingWrite, batch: KeyBatch): void {
    const disk = this.diskUpserts.get(write.collection);
    if (write.kind === 'delete') {
      if (disk) {
        this.statement(`DELETE FROM ${tableName(write.collection)} WHERE _id = ?`).run(write.id);
      } else {
        this.keys.removeStored(write.collection, write.id, batch);
        this.deleteDocument.run(write.collection, write.id);
      }
      return;
    }
    if (disk) {
      const layout = this.diskLayouts.get(write.collection) as DiskCollectionLayout;
      disk.run(write.id, write.json, ...layout.columns.map((c) => sqlValue(write.columns?.[c])));
    } else {
      this.keys.removeStored(write.collection, write.id, batch);
      this.upsertDocument.run(write.collection, write.id, write.json);
      if (write.keys) batch.set(write.collection, write.id, write.keys);
    }
  }

  close(): void {
    this.db.close();
  }
}

export function sqlValue(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return JSON.stringify(value);
}
