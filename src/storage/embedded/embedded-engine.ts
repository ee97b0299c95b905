/**
 * The embedded engine (DESIGN.md decision 2): everything in one SQLite file, read on demand. Finds
 * take the same filter documents MongoDB receives; persistent key indexes narrow the candidates and
 * the filter itself (fast-filter.ts, else mingo) decides (stored-collection.ts). Memory holds a
 * bounded cache of parsed documents and what is not yet durable, so neither memory nor start-up
 * grows with the data. A write is acknowledged only after its SQLite transaction has committed.
 *
 * Group commit: transactions still run one at a time (the write lock keeps compare-and-set valid),
 * but a committed transaction's changes are visible at once (in each collection's overlay) and made durable together with
 * those of every other transaction that committed in the same turn of the event loop, in one SQLite
 * transaction (large groups on a writer thread, see flush()). Each caller is answered only after that
 * SQLite commit. The overlay serves only later transactions (their compare-and-set); a read outside a
 * transaction sees durable data only (stored-collection.ts).
 *
 * If a commit fails (disk full, I/O error), every change not yet durable is taken back out of
 * memory, newest first, every caller waiting gets the error, and the engine refuses all later
 * writes: later groups were built on the failed one's state, so carrying on could make durable
 * what was built on changes that are not. Reads go on; a restart recovers from the file.
 */
import type { Document, DocumentCollection, IndexSpec, StorageEngine, StorageSession } from '../port';
import { DataDirLock } from './data-dir-lock';
import { DiskCollection } from './disk-collection';
import { EmbeddedHistoryClock } from './history-clock';
import { cacheKey, DocumentCache } from './document-cache';
import { EmbeddedSession, type SessionRunner, WriteLock } from './session';
import { type DiskCollectionLayout, type PendingWrite, SqliteFile } from './sqlite-file';
import { SqliteWriter, StorageWriteError } from './sqlite-writer';
import { StoredCollection, type StoredCollectionHost } from './stored-collection';
import { RANGE_CAP } from './stored-queries';

export interface EmbeddedEngineOptions {
  dataDir: string;
  synchronous?: 'NORMAL' | 'FULL';
  /** Collections with the fields their queries select on as SQL columns (history), rather than in `documents`. */
  diskCollections?: Record<string, DiskCollectionLayout>;
  /**
   * False only for a tool that writes nothing a running server holds in memory (`npm run client`: the
   * registry is a disk collection, read from SQLite every time). Otherwise the engine takes the
   * store's lock and a second process is refused (data-dir-lock.ts).
   */
  exclusive?: boolean;
  /** Bound of the cache of parsed documents, in MB of estimated heap. */
  cacheMb?: number;
  /**
   * Test seam, never set in production: each group of commits waits for this before it is written
   * to SQLite, so a test can look at what readers see while a commit is not yet durable.
   */
  beforeDurable?: () => Promise<void>;
  /** Test seam, never set in production: RANGE_CAP lowered, so a small store reaches the dense-range plan. */
  rangeCap?: number;
}

export const DEFAULT_CACHE_MB = 256;

/**
 * Groups with at least this many rows to write, key and range rows included, go to the writer thread.
 * A create and its AuditEvent write ~40; a 100-entry Bundle ~1,600; a flush of read summaries
 * (AuditEvents naming up to 1,000 resources each) a few dozen documents but thousands of key rows.
 */
const WRITER_THREAD_FROM = 200;

/** One transaction's changes waiting for the group's SQLite commit. */
interface PendingCommit {
  session: EmbeddedSession;
  writes: PendingWrite[];
  /** Rows SQLite will write: one per document, plus its key and range rows. */
  rows: number;
  /** Puts back what the overlays held before, to take the changes back if the SQLite commit fails. */
  undo: Array<() => void>;
  /** Stored collections' changes: out of the overlay and into the cache once durable. */
  stored: Array<{ collection: StoredCollection<Document>; id: string; doc: Document | null; jsonLength: number }>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class EmbeddedEngine implements StorageEngine, SessionRunner, StoredCollectionHost {
  readonly kind = 'embedded';
  readonly historyClock = new EmbeddedHistoryClock();
  /** Numbers in search values (date ranges, quantities) and `ts` are kept in B-trees too (key-indexes.ts). */
  readonly rangeIndexes = true;
  /** Schema, every read, index builds, and small groups' writes. */
  private readonly sqlite: SqliteFile;
  private readonly writer: SqliteWriter;
  private readonly dataDirLock?: DataDirLock;
  private readonly disk = new Map<string, DiskCollection<Document>>();
  private readonly stored = new Map<string, StoredCollection<Document>>();
  private readonly cache: DocumentCache;
  /** The last group sent to the writer thread: settles when it is durable or has failed. */
  private lastWrite: Promise<void> = Promise.resolve();
  private readonly lock = new WriteLock();
  private readonly diskLayouts: Record<string, DiskCollectionLayout>;
  /** Commits of the current event-loop turn, not yet sent to the writer. */
  private group: PendingCommit[] = [];
  /** The group sent to the writer, until its commit settles (one at a time, see flush()). */
  private inflight?: PendingCommit[];
  private flushScheduled = false;
  private failure?: StorageWriteError;
  private readonly beforeDurable?: () => Promise<void>;
  readonly counters = { documentsParsed: 0 };
  readonly rangeCap: number;

  constructor(options: EmbeddedEngineOptions) {
    this.beforeDurable = options.beforeDurable;
    this.rangeCap = options.rangeCap ?? RANGE_CAP;
    const synchronous = options.synchronous ?? 'NORMAL';
    if (options.exclusive !== false) this.dataDirLock = DataDirLock.acquire(options.dataDir);
    try {
      this.sqlite = new SqliteFile(options.dataDir, synchronous);
      this.diskLayouts = options.diskCollections ?? {};
      this.cache = new DocumentCache((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024 * 1024);
      this.writer = new SqliteWriter({ dataDir: options.dataDir, synchronous });
    } catch (error) {
      this.dataDirLock?.release();
      throw error;
    }
  }

  collection<T extends Document>(name: string): DocumentCollection<T> {
    const layout = this.diskLayouts[name];
    if (layout) {
      let collection = this.disk.get(name);
      if (!collection) {
        this.disk.set(name, (collection = new DiskCollection(name, this.sqlite, layout, this)));
        this.writer.declareDiskCollection(name, layout);
      }
      return collection as unknown as DocumentCollection<T>;
    }
    let collection = this.stored.get(name);
    if (!collection) this.stored.set(name, (collection = new StoredCollection(name, this.sqlite, this.cache, this)));
    return collection as unknown as DocumentCollection<T>;
  }

  /**
   * Work this engine did since it opened: documents read from SQLite and parsed, and indexes built
   * from stored documents. Start-up on a populated store does neither (test/storage/start-up.test.ts).
   */
  stats(): { documentsParsed: number; indexBuilds: number } {
    return { documentsParsed: this.counters.documentsParsed, indexBuilds: this.sqlite.keys.builds };
  }

  idle(): boolean {
    return this.group.length === 0 && !this.inflight;
  }

  async drained(): Promise<void> {
    if (this.inflight) await this.lastWrite.catch(() => undefined);
    else if (this.group.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  declareIndex(collection: string, ix: number, spec: IndexSpec): void {
    this.writer.declareIndex(collection, ix, spec);
  }

  async withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R> {
    let durable: Promise<void> = Promise.resolve();
    const result = await this.lock.run(async () => {
      const session = new EmbeddedSession();
      try {
        const value = await work(session);
        await session.runCommitHooks();
        durable = this.commit(session);
        return value;
      } catch (error) {
        this.historyClock.settled(session);
        throw error;
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

  /** Makes the session's writes visible now; resolves once the group holding them is durable. */
  private commit(session: EmbeddedSession): Promise<void> {
    const writes: PendingWrite[] = [];
    const serialised = new Map<object, string>();
    const stored: PendingCommit['stored'] = [];
    let rows = 0;
    for (const [collection, docs] of session.pending) {
      const disk = this.disk.get(collection);
      const keyed = this.stored.get(collection);
      for (const [id, doc] of docs) {
        if (!doc) {
          writes.push({ kind: 'delete', collection, id });
          if (keyed) stored.push({ collection: keyed, id, doc, jsonLength: 0 });
          continue;
        }
        const json = documentJson(doc, serialised);
        const keys = keyed ? this.sqlite.keys.keysOf(collection, doc) : undefined;
        for (const [, list, ranges] of keys ?? []) rows += list.length + ranges.length;
        writes.push({ kind: 'upsert', collection, id, json, columns: disk?.columnValues(doc), keys });
        if (keyed) stored.push({ collection: keyed, id, doc, jsonLength: json.length });
      }
    }
    if (writes.length === 0 || this.failure) {
      this.historyClock.settled(session);
      return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    }
    const undo: PendingCommit['undo'] = [];
    for (const { collection, id, doc } of stored) {
      const { overlay } = collection;
      if (overlay.has(id)) {
        const previous = overlay.get(id) as Document | null;
        undo.push(() => overlay.set(id, previous));
      } else {
        undo.push(() => overlay.delete(id));
      }
      overlay.set(id, doc);
    }
    return new Promise<void>((resolve, reject) => {
      this.group.push({ session, writes, rows: rows + writes.length, undo, stored, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Makes the group durable as one SQLite transaction: small groups right here, large ones on the
   * writer thread. Measured on 2 cores: handing a single create's rows to another thread cost more
   * than writing them (create -22%), while a 100-entry Bundle's gain from it (+10%), and so do the
   * read summaries' flushes (patient search +15% at 100k, counting key rows rather than documents).
   * One group at a time: while the writer commits one, the commits that come in wait, and go
   * together as the next group (so a group grows with the load, and pages several commits dirty
   * are written to the WAL once). Groups therefore land in order.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inflight) return; // sent when the group in flight settles
    const group = this.group;
    this.group = [];
    if (group.length === 0) return;
    const writes = group.flatMap((c) => c.writes);
    const rows = group.reduce((sum, c) => sum + c.rows, 0);
    if (rows < WRITER_THREAD_FROM && !this.beforeDurable) {
      try {
        this.sqlite.commit(writes);
      } catch (error) {
        this.inflight = group;
        this.fail(new StorageWriteError(error instanceof Error ? error.message : String(error)));
        return;
      }
      this.durable(group);
      return;
    }
    this.inflight = group;
    const { beforeDurable } = this;
    const written = beforeDurable ? beforeDurable().then(() => this.writer.write(writes)) : this.writer.write(writes);
    this.lastWrite = written.then(
      () => {
        this.inflight = undefined;
        this.durable(group);
        this.flush();
      },
      (error: StorageWriteError) => this.fail(error),
    );
  }

  /** A group is on disk: its documents leave the overlay, cached versions are replaced, and its callers hear. */
  private durable(group: PendingCommit[]): void {
    for (const c of group) {
      for (const { collection, id, doc, jsonLength } of c.stored) {
        // A later commit may have changed the document again: its state stays in the overlay.
        if (collection.overlay.get(id) === doc) collection.overlay.delete(id);
        // Written documents replace cached ones but do not enter the cache themselves: a bulk load
        // would otherwise churn through it, evicting what reads come back for (and growing the heap).
        const key = cacheKey(collection.name, id);
        if (doc && this.cache.has(key)) this.cache.set(key, doc, jsonLength);
        else if (!doc) this.cache.delete(key);
      }
    }
    for (const c of group) {
      this.historyClock.settled(c.session);
      c.resolve();
    }
  }

  /** Takes every change that is not durable back out of the overlays, newest first, and fails its callers. */
  private fail(error: StorageWriteError): void {
    this.failure ??= error;
    const undone = this.inflight ? [this.inflight, this.group] : [this.group];
    this.inflight = undefined;
    this.group = [];
    for (let g = undone.length - 1; g >= 0; g--) {
      for (let c = undone[g].length - 1; c >= 0; c--) {
        const { undo } = undone[g][c];
        for (let u = undo.length - 1; u >= 0; u--) undo[u]();
      }
    }
    for (const group of undone) {
      for (const c of group) {
        this.historyClock.settled(c.session);
        c.reject(this.failure);
      }
    }
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      // Every committed change first: the group in flight, then those waiting behind it (a failure
      // empties both). The lock keeps new commits out meanwhile.
      while (this.inflight || this.group.length > 0) {
        if (this.inflight) await this.lastWrite.catch(() => undefined);
        else this.flush();
      }
      await this.writer.close();
      this.sqlite.close();
      this.dataDirLock?.release();
    });
  }
}

/**
 * JSON.stringify(doc), except that a top-level object value shared with another document of the
 * same commit is serialised once: a resource is written both as the current version and in history.
 */
function documentJson(doc: Document, serialised: Map<object, string>): string {
  const members: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    let json: string | undefined;
    if (value !== null && typeof value === 'object') {
      json = serialised.get(value);
      if (json === undefined) serialised.set(value, (json = JSON.stringify(value)));
    } else {
      json = JSON.stringify(value); // undefined for undefined and functions: left out, as JSON.stringify does
    }
    if (json !== undefined) members.push(`${JSON.stringify(key)}:${json}`);
  }
  return `{${members.join(',')}}`;
}
