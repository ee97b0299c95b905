/**
 * A collection kept in SQLite and read on demand (current resource versions): memory holds only
 * what the document cache keeps, the changes committed but not yet durable (`overlay`), and each open
 * transaction's staged writes. A find narrows its candidates with the persistent key indexes
 * (key-indexes.ts), streams them in _id order, and tests each against the whole filter with the same
 * matcher as before (fast-filter.ts, else mingo), so results are those MongoDB gives for the filter.
 *
 * A transaction's reads see, newest first: its staged writes, then the overlay, then SQLite, so its
 * compare-and-set checks hold against every committed change. A read outside any transaction sees
 * only what is durable (the cache and SQLite), never the overlay: a reader must not act on data that
 * a crash before the group's SQLite commit would take back (issue 12 item 5). The writer's own
 * response already waits for durability, so a client still reads its own acknowledged writes.
 * Everything is synchronous within one find, so a group the writer thread commits in the middle of a
 * find is either read from SQLite or not at all: better-sqlite3 reads each statement at one snapshot.
 */
import type {
  DeleteResult,
  Document,
  DocumentCollection,
  Filter,
  FindExplanation,
  FindOptions,
  IndexSpec,
  ReplaceOptions,
  ReplaceResult,
  WriteOptions,
} from '../port';
import { DuplicateKeyError } from '../port';
import { cacheKey, type DocumentCache } from './document-cache';
import { compileFilter as compileFastFilter, type Predicate } from './fast-filter';
import { compileFilter, runQuery } from './query';
import type { EmbeddedSession, SessionRunner } from './session';
import { servedSpec } from './key-indexes';
import type { SqliteFile } from './sqlite-file';
import { after, bodies, exists, idBounds, keyChunk, planFind, rangeChunk, rangeIdsChunk, scanChunk, type Plan } from './stored-queries';
import { conjuncts, ValueIndex } from './value-index';

/** What a stored collection needs from its engine. */
export interface StoredCollectionHost extends SessionRunner {
  /** True when no committed change is waiting to become durable. */
  idle(): boolean;
  /** Resolves at the next moment the engine may be idle. */
  drained(): Promise<void>;
  /** Registers an index with the writer thread. */
  declareIndex(collection: string, ix: number, spec: IndexSpec): void;
  /** What the engine counts for tests and operators (EmbeddedEngine.stats). */
  readonly counters: { documentsParsed: number };
  /** Most candidates a range may give before it is read in _id order instead (stored-queries.ts, RANGE_CAP). */
  readonly rangeCap: number;
}

const FIRST_CHUNK = 32;
const MAX_CHUNK = 2048;

export class StoredCollection<T extends Document> implements DocumentCollection<T> {
  /** Committed changes not yet durable, by id (null: deleted). Maintained by the engine. */
  readonly overlay = new Map<string, T | null>();
  /**
   * Indexes over each open transaction's staged documents, so large transactions that query as they
   * go stay linear. Built lazily: staged documents wait in a backlog until a query in the same
   * session needs them, because most transactions (every plain create, most Bundles) never query
   * their own writes.
   */
  private readonly stagedIndexes = new WeakMap<EmbeddedSession, { indexes: ValueIndex[]; backlog: Array<[string, T]> }>();

  constructor(
    readonly name: string,
    private readonly sqlite: SqliteFile,
    private readonly cache: DocumentCache,
    private readonly host: StoredCollectionHost,
  ) {}

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return this.findNow(filter, options, options.session as EmbeddedSession | undefined);
  }

  async findOne(filter: Filter, options: WriteOptions = {}): Promise<T | null> {
    return this.findNow(filter, { limit: 1 }, options.session as EmbeddedSession | undefined)[0] ?? null;
  }

  async countDocuments(filter: Filter, options: WriteOptions = {}): Promise<number> {
    return this.findNow(filter, {}, options.session as EmbeddedSession | undefined).length;
  }

  async insertOne(doc: T, options: WriteOptions = {}): Promise<void> {
    await this.host.inSession(options.session as EmbeddedSession | undefined, (session) => {
      if (this.exists(doc._id, session)) throw new DuplicateKeyError(this.name, doc._id);
      this.stage(session, doc._id, doc);
    });
  }

  async replaceOne(filter: Filter, doc: T, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    return this.host.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (existing) {
        this.stage(session, existing._id, { ...doc, _id: existing._id });
        return { matchedCount: 1, upsertedCount: 0 };
      }
      if (!options.upsert) return { matchedCount: 0, upsertedCount: 0 };
      if (this.exists(doc._id, session)) throw new DuplicateKeyError(this.name, doc._id);
      this.stage(session, doc._id, doc);
      return { matchedCount: 0, upsertedCount: 1 };
    });
  }

  async deleteOne(filter: Filter, options: WriteOptions = {}): Promise<DeleteResult> {
    return this.host.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (!existing) return { deletedCount: 0 };
      this.stage(session, existing._id, null);
      return { deletedCount: 1 };
    });
  }

  /**
   * A new index is built from the stored documents at once, while no write is under way, so that
   * every later commit files its documents under it; an index already on disk costs nothing.
   */
  async createIndex(spec: IndexSpec): Promise<void> {
    if (!servedSpec(spec)) return; // _id is the primary key; sorts on other keys run in memory
    while (!this.sqlite.keys.find(this.name, spec)) {
      if (!this.host.idle()) {
        await this.host.drained();
        continue;
      }
      const { ix } = this.sqlite.keys.register(this.name, spec);
      this.host.declareIndex(this.name, ix, spec);
    }
  }

  /** The durable document, from the cache or SQLite. */
  durable(id: string): T | undefined {
    const key = cacheKey(this.name, id);
    const cached = this.cache.get(key) as T | undefined;
    if (cached) return cached;
    const row = bodies(this.sqlite, this.name, [id])[0];
    if (!row) return undefined;
    const doc = this.parse(row[1]);
    this.cache.set(key, doc, row[1].length);
    return doc;
  }

  private current(id: string, session: EmbeddedSession | undefined): T | undefined {
    if (session) {
      const pending = session.pendingFor(this.name);
      if (pending?.has(id)) return (pending.get(id) as T | null) ?? undefined;
      if (this.overlay.has(id)) return this.overlay.get(id) ?? undefined;
    }
    return this.durable(id);
  }

  private exists(id: string, session: EmbeddedSession | undefined): boolean {
    const pending = session?.pendingFor(this.name);
    if (pending?.has(id)) return pending.get(id) !== null;
    if (this.overlay.has(id)) return this.overlay.get(id) !== null;
    return this.cache.get(cacheKey(this.name, id)) !== undefined || exists(this.sqlite, this.name, id);
  }

  private stage(session: EmbeddedSession, id: string, doc: T | null): void {
    session.stage(this.name, id, doc);
    if (!doc) return;
    let staged = this.stagedIndexes.get(session);
    if (!staged) {
      const indexes = this.sqlite.keys.of(this.name).map((i) => new ValueIndex(i.index.spec));
      this.stagedIndexes.set(session, (staged = { indexes, backlog: [] }));
    }
    staged.backlog.push([id, doc]);
  }

  async explain(filter: Filter): Promise<FindExplanation> {
    if (this.findByKey(filter, {}, undefined)) return { docsExamined: this.current(filter._id as string, undefined) ? 1 : 0 };
    let docsExamined = 0;
    for (const _doc of this.storedCandidates(filter, 1, () => false, Infinity)) docsExamined++;
    return { docsExamined };
  }

  private findNow(filter: Filter, options: FindOptions, session: EmbeddedSession | undefined): T[] {
    const direct = this.findByKey(filter, options, session);
    if (direct) return direct;
    const predicate: Predicate = compileFastFilter(filter) ?? mingoPredicate(filter);
    const sortKeys = Object.keys(options.sort ?? {});
    // Documents come out of SQLite in _id order: a sort on _id alone (or none) can stop early.
    const byId: 1 | -1 | 0 = sortKeys.length === 0 ? 1 : sortKeys.length === 1 && sortKeys[0] === '_id' ? ((options.sort as Record<string, number>)._id === -1 ? -1 : 1) : 0;
    const skip = options.skip ?? 0;
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    const wanted = byId && limit !== undefined ? skip + limit : Infinity;

    const pending = session?.pendingFor(this.name);
    // Outside a transaction nothing shadows SQLite: the overlay is not durable yet (see the top).
    const shadowed = session ? (id: string) => this.overlay.has(id) || (pending?.has(id) ?? false) : () => false;
    const inMemory: T[] = [];
    for (const doc of this.memoryCandidates(filter, session)) if (predicate(doc as unknown as Record<string, unknown>)) inMemory.push(doc);
    const matches: T[] = [];
    if (wanted > 0) {
      for (const doc of this.storedCandidates(filter, byId || 1, shadowed, wanted)) {
        if (!predicate(doc as unknown as Record<string, unknown>)) continue;
        matches.push(doc);
        if (matches.length >= wanted) break;
      }
    }
    matches.push(...inMemory);
    if (!byId) return runQuery(compileFilter({}), matches, options);
    if (inMemory.length) matches.sort((a, b) => (a._id === b._id ? 0 : (a._id < b._id ? -1 : 1) * byId));
    const page = matches.slice(skip, limit === undefined ? undefined : skip + limit);
    return options.projection ? runQuery(compileFilter({}), page, { projection: options.projection }) : page;
  }

  /** Reads by _id with plain equalities (every read, every compare-and-set) without a query plan. */
  private findByKey(filter: Filter, options: FindOptions, session: EmbeddedSession | undefined): T[] | undefined {
    const id = filter._id;
    if (typeof id !== 'string' || options.projection) return undefined;
    const keys = Object.keys(filter);
    for (const key of keys) {
      const value = filter[key];
      if (key.startsWith('$') || key.includes('.') || (typeof value !== 'string' && typeof value !== 'number')) return undefined;
    }
    const doc = this.current(id, session);
    if (!doc || options.skip) return [];
    const record = doc as unknown as Record<string, unknown>;
    for (const key of keys) {
      const actual = record[key];
      if (actual !== null && typeof actual === 'object') return undefined;
      if (actual !== filter[key]) return [];
    }
    return [doc];
  }

  /** For a transaction: the overlay's documents and its staged ones (narrowed by the staged indexes). */
  private *memoryCandidates(filter: Filter, session: EmbeddedSession | undefined): Generator<T> {
    if (!session) return;
    const pending = session.pendingFor(this.name);
    for (const [id, doc] of this.overlay) if (doc && !pending?.has(id)) yield doc;
    if (!pending) return;
    const ids = narrowed(filter, this.indexedStaged(session));
    if (ids) {
      for (const id of ids) {
        const doc = pending.get(id);
        if (doc) yield doc as T;
      }
    } else {
      for (const doc of pending.values()) if (doc) yield doc as T;
    }
  }

  private indexedStaged(session: EmbeddedSession): ValueIndex[] {
    const staged = this.stagedIndexes.get(session);
    if (!staged) return [];
    for (const [id, doc] of staged.backlog) {
      for (const index of staged.indexes) index.add(id, doc as unknown as Record<string, unknown>);
    }
    staged.backlog.length = 0;
    return staged.indexes;
  }

  /**
   * Durable documents that may match, in _id order, leaving out those memory holds a newer state of.
   * `wanted`: how many matches the caller stops at. Only a bounded page can gain from reading a dense
   * range in _id order; a caller that needs every match (a count, a sort on another key) gets the
   * range's ids collected whatever their number, which reads each candidate once and nothing else.
   */
  private *storedCandidates(filter: Filter, dir: 1 | -1, shadowed: (id: string) => boolean, wanted: number): Generator<T> {
    const rangeCap = Number.isFinite(wanted) ? this.host.rangeCap : Infinity;
    const plan: Plan = planFind(filter, this.sqlite.keys.of(this.name), this.sqlite, rangeCap);
    if (plan.kind === 'ids') {
      const { lo, hi } = idBounds(filter);
      const within = (id: string) => (!lo || (lo.inclusive ? id >= lo.id : id > lo.id)) && (!hi || (hi.inclusive ? id <= hi.id : id < hi.id));
      const ids = [...new Set(plan.ids)].filter((id) => within(id) && !shadowed(id)).sort();
      if (dir === -1) ids.reverse();
      // Growing chunks, as below: a page of 20 out of thousands of range candidates reads ~32 documents.
      for (let i = 0, size = FIRST_CHUNK; i < ids.length; i += size, size = Math.min(size * 4, MAX_CHUNK)) yield* this.resolve(ids.slice(i, i + size));
      return;
    }
    let bounds = idBounds(filter);
    for (let size = FIRST_CHUNK; ; size = Math.min(size * 4, MAX_CHUNK)) {
      if (plan.kind !== 'scan') {
        const ids =
          plan.kind === 'keys'
            ? keyChunk(this.sqlite, plan, bounds, dir, size)
            : plan.kind === 'ranges'
              ? rangeChunk(this.sqlite, this.name, plan, bounds, dir, size)
              : rangeIdsChunk(this.sqlite, plan, bounds, dir, size);
        yield* this.resolve(ids.filter((id) => !shadowed(id)));
        if (ids.length < size) return;
        bounds = after(bounds, ids[ids.length - 1], dir);
      } else {
        const rows = scanChunk(this.sqlite, this.name, bounds, dir, size);
        for (const [id, body] of rows) {
          if (shadowed(id)) continue;
          // A scan does not fill the cache: it would push out what the reads keep coming back for.
          yield (this.cache.get(cacheKey(this.name, id)) as T | undefined) ?? this.parse(body);
        }
        if (rows.length < size) return;
        bounds = after(bounds, rows[rows.length - 1][0], dir);
      }
    }
  }

  /** A document read from SQLite: every one is counted. */
  private parse(body: string): T {
    this.host.counters.documentsParsed++;
    return JSON.parse(body) as T;
  }

  /** The durable documents of `ids`, in that order: cached ones as they are, the rest in one query. */
  private *resolve(ids: string[]): Generator<T> {
    const found = new Map<string, T>();
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.cache.get(cacheKey(this.name, id)) as T | undefined;
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length) {
      for (const [id, body] of bodies(this.sqlite, this.name, missing)) {
        const doc = this.parse(body);
        this.cache.set(cacheKey(this.name, id), doc, body.length);
        found.set(id, doc);
      }
    }
    for (const id of ids) {
      const doc = found.get(id);
      if (doc) yield doc;
    }
  }
}

function mingoPredicate(filter: Filter): Predicate {
  const query = compileFilter(filter);
  return (doc) => query.test(doc);
}

/** Ids the staged indexes narrow a filter to (the smallest set any conjunct gives), if any. */
function narrowed(filter: Filter, indexes: readonly ValueIndex[]): Set<string> | undefined {
  let best: Set<string> | undefined;
  const parts = conjuncts(filter);
  for (const index of indexes) {
    for (const [key, condition] of parts) {
      const found = index.candidates({ [key]: condition });
      if (found && (!best || found.size < best.size)) best = found;
    }
  }
  return best;
}
