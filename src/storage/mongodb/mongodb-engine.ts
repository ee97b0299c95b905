/**
 * The MongoDB engine: the official driver's collections behind the storage port. Filters pass
 * through untouched; transactions are the driver's multi-document transactions, which need a
 * replica set (docker-compose runs a one-node one).
 */
import { type ClientSession, type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import type {
  DeleteResult,
  Document,
  DocumentCollection,
  Filter,
  FindOptions,
  IndexSpec,
  ReplaceOptions,
  ReplaceResult,
  StorageEngine,
  StorageSession,
  WriteOptions,
} from '../port';
import { DuplicateKeyError } from '../port';

class MongoSession implements StorageSession {
  readonly engine = 'mongodb';
  constructor(readonly clientSession: ClientSession) {}
}

function driverSession(session: StorageSession | undefined): ClientSession | undefined {
  return session instanceof MongoSession ? session.clientSession : undefined;
}

const DUPLICATE_KEY = 11000;

// The driver's generics are keyed to its own Document/Filter types; the port's are structurally the
// same plain objects, so the adapter converts at this one boundary.
type DriverFilter = Parameters<Collection<Document>['find']>[0] & object;

class MongoCollection<T extends Document> implements DocumentCollection<T> {
  constructor(private readonly collection: Collection<T>) {}

  get name(): string {
    return this.collection.collectionName;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.collection.find(filter as DriverFilter, { session: driverSession(options.session) });
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    if (options.projection) cursor = cursor.project(options.projection);
    return (await cursor.toArray()) as T[];
  }

  async findOne(filter: Filter, options: WriteOptions = {}): Promise<T | null> {
    return (await this.collection.findOne(filter as DriverFilter, { session: driverSession(options.session) })) as T | null;
  }

  async countDocuments(filter: Filter, options: WriteOptions = {}): Promise<number> {
    return this.collection.countDocuments(filter as DriverFilter, { session: driverSession(options.session) });
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

  async createIndex(spec: IndexSpec, options: { unique?: boolean; name?: string } = {}): Promise<void> {
    await this.collection.createIndex(spec, options);
  }
}

export class MongoEngine implements StorageEngine {
  readonly kind = 'mongodb';

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  static async connect(uri: string, database: string): Promise<MongoEngine> {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    return new MongoEngine(client, client.db(database));
  }

  collection<T extends Document>(name: string): DocumentCollection<T> {
    return new MongoCollection<T>(this.db.collection<T>(name));
  }

  async withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R> {
    const clientSession = this.client.startSession();
    try {
      return await clientSession.withTransaction(() => work(new MongoSession(clientSession)), {
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
