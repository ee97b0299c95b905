/**
 * The MongoDB engine: the official driver's collections behind the storage port. Filters pass
 * through untouched; transactions are the driver's multi-document transactions, which need a
 * replica set (docker-compose runs a one-node one).
 */
import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import type {
  DeleteResult,
  Document,
  DocumentCollection,
  Filter,
  FindExplanation,
  FindOptions,
  IndexOptions,
  IndexSpec,
  ReplaceOptions,
  ReplaceResult,
  StorageEngine,
  StorageSession,
  WriteOptions,
} from '../port';
import { DuplicateKeyError, StorageUnavailableError } from '../port';
import { MongoHistoryClock } from './history-clock';
import { driverSession, MongoSession } from './session';

export interface MongoEngineOptions {
  /** Longest any query may run on the server (maxTimeMS); past it the request gets 503. */
  maxTimeMs: number;
}


const DUPLICATE_KEY = 11000;
const MAX_TIME_MS_EXPIRED = 50;

/** Driver errors that mean "not now" rather than "never": the client may retry. */
function translated(error: unknown, maxTimeMs: number): unknown {
  if (error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED) {
    return new StorageUnavailableError(`The query ran longer than ${maxTimeMs} ms and was stopped; narrow the search or retry later`);
  }
  return error;
}

// The driver's generics are keyed to its own Document/Filter types; the port's are structurally the
// same plain objects, so the adapter converts at this one boundary.
type DriverFilter = Parameters<Collection<Document>['find']>[0] & object;

class MongoCollection<T extends Document> implements DocumentCollection<T> {
  constructor(
    private readonly collection: Collection<T>,
    private readonly maxTimeMs: number,
  ) {}

  get name(): string {
    return this.collection.collectionName;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.collection.find(filter as DriverFilter, { session: driverSession(options.session), maxTimeMS: this.maxTimeMs });
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    if (options.projection) cursor = cursor.project(options.projection);
    try {
      return (await cursor.toArray()) as T[];
    } catch (error) {
      throw translated(error, this.maxTimeMs);
    }
  }

  async findOne(filter: Filter, options: WriteOptions = {}): Promise<T | null> {
    try {
      return (await this.collection.findOne(filter as DriverFilter, { session: driverSession(options.session), maxTimeMS: this.maxTimeMs })) as T | null;
    } catch (error) {
      throw translated(error, this.maxTimeMs);
    }
  }

  async countDocuments(filter: Filter, options: WriteOptions = {}): Promise<number> {
    try {
      return await this.collection.countDocuments(filter as DriverFilter, { session: driverSession(options.session), maxTimeMS: this.maxTimeMs });
    } catch (error) {
      throw translated(error, this.maxTimeMs);
    }
  }

  async insertOne(doc: T, options: WriteOptions = {}): Promise<void> {
    try {
      await this.collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0], {
        session: driverSession(options.session),
      });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new DuplicateKeyError(this.name, doc._id);
      throw error;
    }
  }

  async replaceOne(filter: Filter, doc: T, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    try {
      const result = await this.collection.replaceOne(filter as DriverFilter, doc, {
        upsert: options.upsert,
        session: driverSession(options.session),
      });
      return { matchedCount: result.matchedCount, upsertedCount: result.upsertedCount };
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new DuplicateKeyError(this.name, doc._id);
      throw error;
    }
  }

  async deleteOne(filter: Filter, options: WriteOptions = {}): Promise<DeleteResult> {
    const result = await this.collection.deleteOne(filter as DriverFilter, { session: driverSession(options.session) });
    return { deletedCount: result.deletedCount };
  }

  async createIndex(spec: IndexSpec, options: IndexOptions = {}): Promise<void> {
    await this.collection.createIndex(spec, options);
  }

  async explain(filter: Filter): Promise<FindExplanation> {
    const explained = await this.collection.find(filter as DriverFilter).explain('executionStats');
    return { docsExamined: Number((explained.executionStats as { totalDocsExamined?: number } | undefined)?.totalDocsExamined ?? 0) };
  }
}

export class MongoEngine implements StorageEngine {
  readonly kind = 'mongodb';
  readonly rangeIndexes = true;
  readonly historyClock: MongoHistoryClock;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly options: MongoEngineOptions,
  ) {
    this.historyClock = new MongoHistoryClock(client, db.databaseName, options.maxTimeMs);
  }

  static async connect(uri: string, database: string, options: MongoEngineOptions = { maxTimeMs: 30_000 }): Promise<MongoEngine> {
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: 10_000,
      // A field left undefined is not stored as null: both engines store the same documents.
      ignoreUndefined: true,
      // Reads outside transactions see only what a majority holds, so never a write that a
      // failover could still roll back; writes are acknowledged by a majority for the same reason.
      readConcern: { level: 'majority' },
      writeConcern: { w: 'majority' },
    });
    await client.connect();
    try {
      await requireTransactions(client);
      const engine = new MongoEngine(client, client.db(database), options);
      await engine.historyClock.prepare();
      return engine;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  collection<T extends Document>(name: string): DocumentCollection<T> {
    return new MongoCollection<T>(this.db.collection<T>(name), this.options.maxTimeMs);
  }

  async withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R> {
    const clientSession = this.client.startSession();
    try {
      // A retried transaction runs the work again in a fresh session, so its hooks are added anew.
      const attempt = async (): Promise<R> => {
        const session = new MongoSession(clientSession);
        const value = await work(session);
        await session.runCommitHooks();
        return value;
      };
      return await clientSession.withTransaction(attempt, {
        readConcern: { level: 'snapshot' },
        writeConcern: { w: 'majority' },
      });
    } finally {
      await clientSession.endSession();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * Multi-document transactions need a replica set (or a sharded cluster). A standalone server would
 * fail on the first write with a driver error, so it is refused at start-up, saying why.
 */
async function requireTransactions(client: MongoClient): Promise<void> {
  const hello = (await client.db('admin').command({ hello: 1 })) as { setName?: string; msg?: string };
  if (hello.setName || hello.msg === 'isdbgrid') return;
  throw new Error(
    'MongoDB is running as a standalone server, but this server needs multi-document transactions, which only a replica set ' +
      '(or a sharded cluster) offers. Start mongod with --replSet rs0 and run rs.initiate() once (docker-compose.yml does both), ' +
      'and add replicaSet=rs0 to MONGODB_URI.',
  );
}
