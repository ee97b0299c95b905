/**
 * The storage port (DESIGN.md decision 2): a strict subset of the MongoDB driver's Collection API.
 * The repository is written once against it; each engine implements it. Filters are plain MongoDB
 * filter documents, so both engines receive exactly the same query.
 */

/** A MongoDB filter document. Kept loose on purpose: engines pass it through unchanged. */
export type Filter = Record<string, unknown>;
export type SortSpec = Record<string, 1 | -1>;
export type IndexSpec = Record<string, 1 | -1>;

/** Opaque handle of an engine transaction; pass it to every call that belongs to the transaction. */
export interface StorageSession {
  readonly engine: string;
  /**
   * Savepoints, where the engine has them (embedded; MongoDB transactions have none): `savepoint()`
   * marks the session's writes so far, `rollbackTo(mark)` takes back every write made after it and
   * nothing else. A batch uses them to commit its entries together while each fails on its own.
   */
  savepoint?(): number;
  rollbackTo?(mark: number): void;
  /**
   * Runs `hook` once the transaction's work is done, inside the transaction, before it commits: its
   * writes commit with the rest. A request's audit record uses it to store one event for all the
   * request's writes. Hooks run in the order they were added, and not at all if the work fails.
   */
  beforeCommit(hook: () => Promise<void>): void;
}

export interface FindOptions {
  sort?: SortSpec;
  skip?: number;
  limit?: number;
  projection?: Record<string, 0 | 1>;
  session?: StorageSession;
}

export interface WriteOptions {
  session?: StorageSession;
}

export interface ReplaceOptions extends WriteOptions {
  upsert?: boolean;
}

export interface ReplaceResult {
  matchedCount: number;
  upsertedCount: number;
}

export interface DeleteResult {
  deletedCount: number;
}

export interface IndexOptions {
  unique?: boolean;
  name?: string;
  /**
   * A TTL index (on a Date field): MongoDB removes each document this many seconds after its date.
   * The embedded engine keeps the documents; it only needs this for housekeeping, not correctness.
   */
  expireAfterSeconds?: number;
}

export interface Document {
  _id: string;
}

/** How a find is answered (MongoDB's explain "executionStats"), for tests and diagnostics. */
export interface FindExplanation {
  /** Documents read and tested against the filter: with a fitting index, about as many as match. */
  docsExamined: number;
}

export interface DocumentCollection<T extends Document> {
  readonly name: string;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  findOne(filter: Filter, options?: WriteOptions): Promise<T | null>;
  countDocuments(filter: Filter, options?: WriteOptions): Promise<number>;
  /** Throws DuplicateKeyError when a document with the same _id (or unique index key) exists. */
  insertOne(doc: T, options?: WriteOptions): Promise<void>;
  replaceOne(filter: Filter, doc: T, options?: ReplaceOptions): Promise<ReplaceResult>;
  deleteOne(filter: Filter, options?: WriteOptions): Promise<DeleteResult>;
  createIndex(spec: IndexSpec, options?: IndexOptions): Promise<void>;
  /** How many documents a find with this filter examines, outside any transaction. */
  explain(filter: Filter): Promise<FindExplanation>;
}

/**
 * Timestamps of history, in commit order (issue 12 item 4). A client polling `_history?_since=` resumes
 * from the horizon of its previous answer; that misses nothing and repeats nothing only if no version
 * can become visible later with a timestamp below a horizon already given. The clock guarantees it:
 * - a transaction's stamps are never below those of any transaction that committed before it, nor
 *   below any horizon already given, so timestamps follow commit order;
 * - `atHorizon` picks a horizon H and then runs the read: every version with a timestamp below H that
 *   will ever be visible is visible to that read, and every later stamp is at least H.
 * A history answer then lists versions with timestamps below H only, and says H (Bundle.meta.lastUpdated).
 */
export interface HistoryClock {
  /**
   * The timestamp (epoch ms) of a version written in `session`, at least `atLeast`. All the versions of
   * one transaction share one timestamp unless `atLeast` forces a later one.
   */
  stamp(session: StorageSession, atLeast: number): Promise<number>;
  /** Runs `read` at a horizon (see above); the read passes `session` (if any) to its finds. */
  atHorizon<R>(read: (horizon: number, session: StorageSession | undefined) => Promise<R>): Promise<R>;
}

export interface StorageEngine {
  /** Timestamps for new versions, in commit order. */
  readonly historyClock: HistoryClock;
  /** "embedded" or "mongodb": logged at start and reported in the CapabilityStatement. */
  readonly kind: string;
  /**
   * True when the engine answers range conditions (and sorts, on MongoDB) from B-tree indexes, so
   * the repository declares the indexes for them; the embedded engine keeps those that narrow ranges
   * and sorts in memory.
   */
  readonly rangeIndexes?: boolean;
  collection<T extends Document>(name: string): DocumentCollection<T>;
  /**
   * Runs `work` as one atomic unit: every write made with the session becomes visible and durable
   * together, or not at all when `work` throws.
   */
  withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

/** Raised by insertOne on a duplicate key, in both engines. */
export class DuplicateKeyError extends Error {
  constructor(collection: string, id: string) {
    super(`Duplicate key ${id} in ${collection}`);
    this.name = 'DuplicateKeyError';
  }
}

/**
 * The store cannot answer now (a query ran past its time limit, the server is unreachable): the
 * HTTP layer answers 503, and the client may retry. Nothing was written.
 */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}
