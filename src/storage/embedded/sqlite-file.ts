/**
 * The durable half of the embedded engine: one SQLite database in WAL mode. Memory-resident
 * collections keep one row per document in `documents`; disk-resident collections (history) get a
 * table of their own with the fields their queries select on as columns.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface DiskCollectionLayout {
  /** Document fields copied into columns so that SQL can select and order on them. */
  columns: readonly string[];
}

export type PendingWrite =
  | { kind: 'upsert'; collection: string; id: string; json: string; columns?: Record<string, unknown> }
  | { kind: 'delete'; collection: string; id: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function tableName(collection: string): string {
  const name = `c_${collection.replace(/[^A-Za-z0-9_]/g, '_')}`;
  if (!IDENTIFIER.test(name)) throw new Error(`Unusable collection name ${collection}`);
  return name;
}

export class SqliteFile {
  readonly db: Database.Database;
  private readonly upsertDocument: Database.Statement;
  private readonly deleteDocument: Database.Statement;
  private readonly diskUpserts = new Map<string, Database.Statement>();
  private readonly diskLayouts = new Map<string, DiskCollectionLayout>();

  constructor(dataDir: string, synchronous: 'NORMAL' | 'FULL') {
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, 'mtm-fhir.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a committed transaction survives the process being killed (the WAL is in the OS);
    // FULL also survives a power cut, at the cost of an fsync per commit.
    this.db.pragma(`synchronous = ${synchronous}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS documents (
      collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, id)
    ) WITHOUT ROWID`);
    this.upsertDocument = this.db.prepare(
      'INSERT INTO documents (collection, id, body) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body',
    );
    this.deleteDocument = this.db.prepare('DELETE FROM documents WHERE collection = ? AND id = ?');
  }

  /** Every stored document of a memory-resident collection, as JSON text. */
  *documents(collection: string): IterableIterator<string> {
    const rows = this.db.prepare('SELECT body FROM documents WHERE collection = ?').raw().iterate(collection);
    for (const row of rows) yield (row as [string])[0];
  }

  memoryCollectionNames(): string[] {
    return (this.db.prepare('SELECT DISTINCT collection FROM documents').raw().all() as [string][]).map((r) => r[0]);
  }

  ensureDiskCollection(collection: string, layout: DiskCollectionLayout): void {
    if (this.diskLayouts.has(collection)) return;
    const table = tableName(collection);
    for (const column of layout.columns) {
      if (!IDENTIFIER.test(column)) throw new Error(`Unusable column name ${column}`);
    }
    const columns = layout.columns.map((c) => `, "${c}"`).join('');
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (_id TEXT PRIMARY KEY, body TEXT NOT NULL${columns})`);
    for (const column of layout.columns) {
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${table}_${column} ON ${table} ("${column}")`);
    }
    const placeholders = layout.columns.map(() => ', ?').join('');
    this.diskUpserts.set(
      collection,
      this.db.prepare(`INSERT OR REPLACE INTO ${table} (_id, body${columns}) VALUES (?, ?${placeholders})`),
    );
    this.diskLayouts.set(collection, layout);
  }

  diskLayout(collection: string): DiskCollectionLayout | undefined {
    return this.diskLayouts.get(collection);
  }

  /** Writes every pending change in one SQLite transaction: all of them are durable, or none. */
  commit(writes: readonly PendingWrite[]): void {
    if (writes.length === 0) return;
    this.db.transaction(() => {
      for (const write of writes) this.apply(write);
    })();
  }

  private apply(write: PendingWrite): void {
    const disk = this.diskUpserts.get(write.collection);
    if (write.kind === 'delete') {
      if (disk) {
        this.db.prepare(`DELETE FROM ${tableName(write.collection)} WHERE _id = ?`).run(write.id);
      } else {
        this.deleteDocument.run(write.collection, write.id);
      }
      return;
    }
    if (disk) {
      const layout = this.diskLayouts.get(write.collection) as DiskCollectionLayout;
      disk.run(write.id, write.json, ...layout.columns.map((c) => sqlValue(write.columns?.[c])));
    } else {
      this.upsertDocument.run(write.collection, write.id, write.json);
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
