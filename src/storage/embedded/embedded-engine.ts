/**
 * The embedded engine (DESIGN.md decision 2): current versions in memory, filtered with mingo
 * using the same filter documents MongoDB receives; everything durable in one SQLite file.
 * A write is acknowledged only after its SQLite transaction has committed.
 */
import type { Document, DocumentCollection, StorageEngine, StorageSession } from '../port';
import { DiskCollection } from './disk-collection';
import { MemoryCollection, type SessionRunner } from './memory-collection';
import { EmbeddedSession, WriteLock } from './session';
import { type DiskCollectionLayout, type PendingWrite, SqliteFile } from './sqlite-file';

export interface EmbeddedEngineOptions {
  dataDir: string;
  synchronous?: 'NORMAL' | 'FULL';
  /** Collections kept on disk rather than in memory, with the fields their queries select on. */
  diskCollections?: Record<string, DiskCollectionLayout>;
}

export class EmbeddedEngine implements StorageEngine, SessionRunner {
  readonly kind = 'embedded';
  private readonly sqlite: SqliteFile;
  private readonly memory = new Map<string, MemoryCollection<Document>>();
  private readonly disk = new Map<string, DiskCollection<Document>>();
  private readonly lock = new WriteLock();
  private readonly diskLayouts: Record<string, DiskCollectionLayout>;

  constructor(options: EmbeddedEngineOptions) {
    this.sqlite = new SqliteFile(options.dataDir, options.synchronous ?? 'NORMAL');
    this.diskLayouts = options.diskCollections ?? {};
    for (const name of this.sqlite.memoryCollectionNames()) {
      const collection = this.memoryCollection(name);
      for (const json of this.sqlite.documents(name)) collection.load(JSON.parse(json) as Document);
    }
  }

  collection<T extends Document>(name: string): DocumentCollection<T> {
    const layout = this.diskLayouts[name];
    if (layout) {
      let collection = this.disk.get(name);
      if (!collection) this.disk.set(name, (collection = new DiskCollection(name, this.sqlite, layout, this)));
      return collection as unknown as DocumentCollection<T>;
    }
    return this.memoryCollection(name) as unknown as DocumentCollection<T>;
  }

  private memoryCollection(name: string): MemoryCollection<Document> {
    let collection = this.memory.get(name);
    if (!collection) this.memory.set(name, (collection = new MemoryCollection(name, this)));
    return collection;
  }

  async withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R> {
    return this.lock.run(async () => {
      const session = new EmbeddedSession();
      try {
        const result = await work(session);
        this.commit(session);
        return result;
      } finally {
        session.close();
      }
    });
  }

  async inSession<R>(session: EmbeddedSession | undefined, work: (session: EmbeddedSession) => R): Promise<R> {
    if (session) return work(session);
    return this.withTransaction(async (s) => work(s as EmbeddedSession));
  }

  /** Makes the session's writes durable in one SQLite transaction, then visible in memory. */
  private commit(session: EmbeddedSession): void {
    const writes: PendingWrite[] = [];
    for (const [collection, docs] of session.pending) {
      const disk = this.disk.get(collection);
      for (const [id, doc] of docs) {
        if (!doc) writes.push({ kind: 'delete', collection, id });
        else writes.push({ kind: 'upsert', collection, id, json: JSON.stringify(doc), columns: disk?.columnValues(doc) });
      }
    }
    this.sqlite.commit(writes);
    for (const [collection, docs] of session.pending) {
      const memory = this.memory.get(collection);
      if (!memory) continue;
      for (const [id, doc] of docs) memory.applyCommitted(id, doc);
    }
  }

  async close(): Promise<void> {
    await this.lock.run(async () => this.sqlite.close());
  }
}
