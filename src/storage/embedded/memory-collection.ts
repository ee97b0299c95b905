/**
 * A collection held wholly in memory (current resource versions), persisted row by row in SQLite.
 * Reads never touch the disk; writes are staged in a session and applied by the engine on commit.
 */
import type {
  DeleteResult,
  Document,
  DocumentCollection,
  Filter,
  FindOptions,
  IndexSpec,
  ReplaceOptions,
  ReplaceResult,
  WriteOptions,
} from '../port';
import { DuplicateKeyError } from '../port';
import { compileFilter as compileFastFilter } from './fast-filter';
import { compileFilter, runQuery } from './query';
import { scan } from './scan';
import type { EmbeddedSession } from './session';
import { conjuncts, ValueIndex } from './value-index';

/** Below this many candidates, testing them all is cheaper than intersecting another index's set. */
const INTERSECT_ABOVE = 64;

export interface SessionRunner {
  /** Runs `work` inside the caller's session, or inside a new transaction when there is none. */
  inSession<R>(session: EmbeddedSession | undefined, work: (session: EmbeddedSession) => R): Promise<R>;
}

export class MemoryCollection<T extends Document> implements DocumentCollection<T> {
  readonly docs = new Map<string, T>();
  private readonly indexes: ValueIndex[] = [];
  /**
   * Indexes over each open transaction's staged documents, so large transactions that query as they
   * go stay linear. Built lazily: staged documents wait in a backlog until a query in the same
   * session needs the indexes, because most transactions (every plain create, most Bundles) never
   * query their own writes, and indexing each document twice showed in write profiles.
   */
  private readonly stagedIndexes = new WeakMap<EmbeddedSession, { indexes: ValueIndex[]; backlog: Array<[string, T]> }>();

  constructor(
    readonly name: string,
    private readonly runner: SessionRunner,
  ) {}

  /** Loads a document read from disk at start-up. */
  load(doc: T): void {
    this.docs.set(doc._id, doc);
  }

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
    await this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      if (this.current(doc._id, session)) throw new DuplicateKeyError(this.name, doc._id);
      this.stage(session, doc._id, doc);
    });
  }

  async replaceOne(filter: Filter, doc: T, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    return this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (existing) {
        this.stage(session, existing._id, { ...doc, _id: existing._id });
        return { matchedCount: 1, upsertedCount: 0 };
      }
      if (!options.upsert) return { matchedCount: 0, upsertedCount: 0 };
      if (this.current(doc._id, session)) throw new DuplicateKeyError(this.name, doc._id);
      this.stage(session, doc._id, doc);
      return { matchedCount: 0, upsertedCount: 1 };
    });
  }

  async deleteOne(filter: Filter, options: WriteOptions = {}): Promise<DeleteResult> {
    return this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (!existing) return { deletedCount: 0 };
      this.stage(session, existing._id, null);
      return { deletedCount: 1 };
    });
  }

  async createIndex(spec: IndexSpec): Promise<void> {
    const key = JSON.stringify(spec);
    if (key === JSON.stringify({ _id: 1 }) || this.indexes.some((i) => JSON.stringify(i.spec) === key)) return;
    const index = new ValueIndex(spec);
    for (const [id, doc] of this.docs) index.add(id, doc as unknown as Record<string, unknown>);
    this.indexes.push(index);
  }

  /** Applies a committed change to memory and to the indexes. */
  applyCommitted(id: string, doc: T | null): void {
    const previous = this.docs.get(id);
    if (previous) for (const index of this.indexes) index.remove(id, previous as unknown as Record<string, unknown>);
    if (doc) {
      this.docs.set(id, doc);
      for (const index of this.indexes) index.add(id, doc as unknown as Record<string, unknown>);
    } else {
      this.docs.delete(id);
    }
  }

  private stage(session: EmbeddedSession, id: string, doc: T | null): void {
    session.stage(this.name, id, doc);
    if (!doc) return;
    let staged = this.stagedIndexes.get(session);
    if (!staged) this.stagedIndexes.set(session, (staged = { indexes: this.indexes.map((i) => new ValueIndex(i.spec)), backlog: [] }));
    staged.backlog.push([id, doc]);
  }

  private current(id: string, session: EmbeddedSession | undefined): T | undefined {
    const pending = session?.pendingFor(this.name);
    if (pending?.has(id)) return (pending.get(id) as T | null) ?? undefined;
    return this.docs.get(id);
  }

  private findNow(filter: Filter, options: FindOptions, session: EmbeddedSession | undefined): T[] {
    const direct = this.findByKey(filter, options, session);
    if (direct) return direct;
    const predicate = compileFastFilter(filter);
    const scanned = predicate && scan(this.candidates(filter, session), predicate, options);
    if (scanned) return scanned;
    const query = compileFilter(filter);
    return runQuery(query, this.candidates(filter, session), options);
  }

  /**
   * Reads by _id (the commonest query: every read, and every compare-and-set as `{ _id, vid }`)
   * without building a mingo Query, which costs more than the lookup itself. Only for filters of
   * plain equalities on top-level fields holding primitives, where `===` is exactly Mongo's
   * equality; anything else returns undefined and goes through mingo.
   */
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

  /** The documents worth testing: narrowed by _id or by an index when the filter allows it. */
  private *candidates(filter: Filter, session: EmbeddedSession | undefined): Generator<T> {
    const pending = session?.pendingFor(this.name);
    const ids = this.candidateIds(filter, this.indexes);
    if (ids) {
      for (const id of ids) {
        if (pending?.has(id)) continue;
        const doc = this.docs.get(id);
        if (doc) yield doc;
      }
    } else {
      for (const [id, doc] of this.docs) if (!pending?.has(id)) yield doc;
    }
    if (!pending || !session) return;
    // Staged indexes may hold keys of a document's earlier staged state: harmless, mingo re-tests.
    const stagedIds = this.candidateIds(filter, this.indexedStaged(session));
    if (stagedIds) {
      for (const id of new Set(stagedIds)) {
        const doc = pending.get(id);
        if (doc) yield doc as T;
      }
    } else {
      for (const doc of pending.values()) if (doc) yield doc as T;
    }
  }

  /** The session's staged-document indexes, brought up to date with its backlog. */
  private indexedStaged(session: EmbeddedSession): ValueIndex[] {
    const staged = this.stagedIndexes.get(session);
    if (!staged) return [];
    for (const [id, doc] of staged.backlog) {
      for (const index of staged.indexes) index.add(id, doc as unknown as Record<string, unknown>);
    }
    staged.backlog.length = 0;
    return staged.indexes;
  }

  private candidateIds(filter: Filter, indexes: readonly ValueIndex[]): Iterable<string> | undefined {
    for (const [key, condition] of conjuncts(filter)) {
      if (key !== '_id') continue;
      if (typeof condition === 'string') return [condition];
      if (condition && typeof condition === 'object') {
        const c = condition as Record<string, unknown>;
        if (typeof c.$eq === 'string') return [c.$eq];
        if (Array.isArray(c.$in)) return c.$in.filter((v): v is string => typeof v === 'string');
      }
    }
    // Each conjunct an index can narrow gives a superset of its matches; their intersection is a
    // superset of the filter's. Smallest first, and only while the result is still large, because
    // intersecting costs the size of the smaller set.
    const sets: Set<string>[] = [];
    const parts = conjuncts(filter);
    for (const index of indexes) {
      for (const [key, condition] of parts) {
        const found = index.candidates({ [key]: condition });
        if (found) sets.push(found);
      }
    }
    if (sets.length === 0) return undefined;
    sets.sort((a, b) => a.size - b.size);
    let result = sets[0];
    for (let i = 1; i < sets.length && result.size > INTERSECT_ABOVE; i++) {
      const next = new Set<string>();
      for (const id of result) if (sets[i].has(id)) next.add(id);
      result = next;
    }
    return result;
  }
}
