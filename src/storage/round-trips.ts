/**
 * A test seam: every storage operation first gives the event loop a turn, as a round trip to
 * MongoDB does. The embedded engine answers most operations without ever yielding, so concurrent
 * requests on it never overlap between "read" and "write", and a test of a race (conditional
 * create, If-Match, the write lock) would pass even with the code that prevents the race removed.
 * With this wrapper they overlap, and such a test can fail. Off in production
 * (STORAGE_SIMULATED_ROUND_TRIPS), on in the test configuration.
 */
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
} from './port';

/** One turn of the event loop: everything else that is ready runs first. */
const roundTrip = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class RoundTripCollection<T extends Document> implements DocumentCollection<T> {
  constructor(private readonly inner: DocumentCollection<T>) {}

  get name(): string {
    return this.inner.name;
  }

  async find(filter: Filter, options?: FindOptions): Promise<T[]> {
    await roundTrip();
    return this.inner.find(filter, options);
  }

  async findOne(filter: Filter, options?: WriteOptions): Promise<T | null> {
    await roundTrip();
    return this.inner.findOne(filter, options);
  }

  async countDocuments(filter: Filter, options?: WriteOptions): Promise<number> {
    await roundTrip();
    return this.inner.countDocuments(filter, options);
  }

  async insertOne(doc: T, options?: WriteOptions): Promise<void> {
    await roundTrip();
    return this.inner.insertOne(doc, options);
  }

  async replaceOne(filter: Filter, doc: T, options?: ReplaceOptions): Promise<ReplaceResult> {
    await roundTrip();
    return this.inner.replaceOne(filter, doc, options);
  }

  async deleteOne(filter: Filter, options?: WriteOptions): Promise<DeleteResult> {
    await roundTrip();
    return this.inner.deleteOne(filter, options);
  }

  createIndex(spec: IndexSpec, options?: IndexOptions): Promise<void> {
    return this.inner.createIndex(spec, options);
  }

  explain(filter: Filter): Promise<FindExplanation> {
    return this.inner.explain(filter);
  }
}

/** The engine, with a turn of the event loop before each collection operation and each transaction. */
export function withSimulatedRoundTrips(engine: StorageEngine): StorageEngine {
  return {
    kind: engine.kind,
    rangeIndexes: engine.rangeIndexes,
    historyClock: {
      async stamp(session: StorageSession, atLeast: number): Promise<number> {
        await roundTrip();
        return engine.historyClock.stamp(session, atLeast);
      },
      async atHorizon<R>(read: (horizon: number, session: StorageSession | undefined) => Promise<R>): Promise<R> {
        await roundTrip();
        return engine.historyClock.atHorizon(read);
      },
    },
    collection: <T extends Document>(name: string) => new RoundTripCollection<T>(engine.collection<T>(name)),
    async withTransaction<R>(work: (session: StorageSession) => Promise<R>): Promise<R> {
      await roundTrip();
      return engine.withTransaction(work);
    },
    close: () => engine.close(),
  };
}
