/**
 * The embedded engine (DESIGN.md decision 2): current versions in memory, filtered with mingo
 * using the same filter documents MongoDB receives; everything durable in one SQLite file.
 * A write is acknowledged only after its SQLite transaction has committed.
 *
 * Group commit: transactions still run one at a time (the write lock keeps compare-and-set valid),
 * but a committed transaction's changes are applied to memory at once and made durable together with
 * those of every other transaction that committed in the same turn of the event loop, in one SQLite
 * transaction. Each caller is answered only after that SQLite commit. If it fails, the whole group's
 * changes are taken back out of memory, newest first, and every caller in the group gets the error.
 * Meanwhile a plain read may see a change that is not yet durable (for well under a millisecond).
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

/** One transaction's changes waiting for the group's SQLite commit. */
interface PendingCommit {
  writes: PendingWrite[];
  /** What memory held before, to take the changes back if the SQLite commit fails. */
  undo: Array<{ memory: MemoryCollection<Document>; id: string; previous: Document | null }>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class EmbeddedEngine implements StorageEngine, SessionRunner {
  readonly kind = 'embedded';
  private readonly sqlite: SqliteFile;
  private readonly memory = new Map<string, MemoryCollection<Document>>();
  private readonly disk = new Map<string, DiskCollection<Document>>();
  private readonly lock = new WriteLock();
  private readonly diskLayouts: Record<string, DiskCollectionLayout>;
  private group: PendingCommit[] = [];
  private flushScheduled = false;

  constructor(options: EmbeddedEngineOptions) {
    this.sqlite = new SqliteFile(options.dataDir, options.synchronous ?? 'NORMAL');
    this.diskLayouts = options.diskCollections ?? {};
    for (const [name, json] of this.sqlite.allDocuments()) this.memoryCollection(name).load(JSON.parse(json) as Document);
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
    let durable: Promise<void> = Promise.resolve();
    const result = await this.lock.run(async () => {
      const session = new EmbeddedSession();
      try {
        const value = await work(session);
        durable = this.commit(session);
        return value;
      } finally {
        session.close();
      }
    });
    await durable;
    return result;
  }

  async inSession<R>(session: EmbeddedSession | undefined, work: (session: EmbeddedSession) => R): Promise<R> {
    if (session) return work(session);
    return this.withTransaction(async (s) => work(s as EmbeddedSession));
  }

  /** Applies the session's writes to memory now; resolves once the group holding them is durable. */
  private commit(session: EmbeddedSession): Promise<void> {
    const writes: PendingWrite[] = [];
    for (const [collection, docs] of session.pending) {
      const disk = this.disk.get(collection);
      for (const [id, doc] of docs) {
        if (!doc) writes.push({ kind: 'delete', collection, id });
        else writes.push({ kind: 'upsert', collection, id, json: JSON.stringify(doc), columns: disk?.columnValues(doc) });
      }
    }
    if (writes.length === 0) return Promise.resolve();
    const undo: PendingCommit['undo'] = [];
    for (const [collection, docs] of session.pending) {
      const memory = this.memory.get(collection);
      if (!memory) continue;
      for (const [id, doc] of docs) {
        undo.push({ memory, id, previous: memory.docs.get(id) ?? null });
        memory.applyCommitted(id, doc);
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.group.push({ writes, undo, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One SQLite transaction for every commit of the group. */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.group;
    this.group = [];
    if (group.length === 0) return;
    try {
      this.sqlite.commit(group.flatMap((c) => c.writes));
    } catch (error) {
      for (let c = group.length - 1; c >= 0; c--) {
        const { undo } = group[c];
        for (let u = undo.length - 1; u >= 0; u--) undo[u].memory.applyCommitted(undo[u].id, undo[u].previous);
      }
      for (const c of group) c.reject(error);
      return;
    }
    for (const c of group) c.resolve();
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      this.flush();
      this.sqlite.close();
    });
  }
}
