/**
 * The MongoDB engine's history clock (port.ts HistoryClock): one clock document that every write
 * transaction updates, inside the transaction, to take its timestamp.
 *
 * Why it follows commit order: two transactions that write the same document cannot both commit; the
 * second one's write fails with a WriteConflict (a TransientTransactionError, which the driver's
 * withTransaction retries from the start) and a write outside any transaction waits until the
 * transaction holding the document ends (MongoDB manual, "Production Considerations > In-progress
 * Transactions and Write Conflicts"). So the clock document's writes are totally ordered, a
 * transaction's stamp is at least every stamp and horizon written before it, and a transaction that
 * stamps later commits later: its commit comes later in the oplog, and majority reads see oplog
 * prefixes. The horizon is a write outside any transaction (so it waits for the transaction holding
 * the clock, if any), acknowledged by a majority, and the history read that follows runs in the same
 * causally consistent session, so it sees everything committed before the horizon.
 *
 * Cost, plainly: write transactions are serialised from their first stamp to their commit (as the
 * embedded engine's write lock serialises them all along); concurrent ones abort and are retried,
 * which bounds MongoDB write throughput by the stamp-to-commit time (a few round trips). Each history
 * read costs one majority write. Cluster time cannot replace this: a transaction learns its commit
 * timestamp only after committing, too late to be meta.lastUpdated.
 */
import { type Collection, type MongoClient, MongoServerError } from 'mongodb';
import { type HistoryClock, StorageUnavailableError, type StorageSession } from '../port';
import { MongoSession, mongoSession } from './session';

export const HISTORY_CLOCK_COLLECTION = 'history_clock';
const CLOCK_ID = 'history';
const MAX_TIME_MS_EXPIRED = 50;

interface ClockDocument {
  _id: string;
  ts: number;
}

export class MongoHistoryClock implements HistoryClock {
  private readonly clocks: Collection<ClockDocument>;

  constructor(
    private readonly client: MongoClient,
    database: string,
    private readonly maxTimeMs: number,
  ) {
    this.clocks = client.db(database).collection<ClockDocument>(HISTORY_CLOCK_COLLECTION);
  }

  /** At start-up: the clock document exists, so no transaction has to create its collection. */
  async prepare(): Promise<void> {
    await this.clocks.updateOne({ _id: CLOCK_ID }, { $setOnInsert: { ts: 0 } }, { upsert: true });
  }

  async stamp(session: StorageSession, atLeast: number): Promise<number> {
    const own = mongoSession(session);
    if (own.stamped !== undefined && own.stamped >= atLeast) return own.stamped;
    const clock = await this.clocks.findOneAndUpdate(
      { _id: CLOCK_ID },
      [{ $set: { ts: { $max: ['$ts', Date.now(), atLeast] } } }],
      { upsert: true, returnDocument: 'after', session: own.clientSession, maxTimeMS: this.maxTimeMs },
    );
    if (!clock) throw new Error('The history clock document could not be read back');
    own.stamped ??= clock.ts;
    return clock.ts;
  }

  /**
   * Moves the clock just past every stamp given (waiting for the transaction that holds it), then runs
   * `read` in the same causally consistent session, so it sees every version stamped below the horizon.
   */
  async atHorizon<R>(read: (horizon: number, session: StorageSession) => Promise<R>): Promise<R> {
    const clientSession = this.client.startSession({ causalConsistency: true });
    try {
      const clock = await this.clocks
        .findOneAndUpdate(
          { _id: CLOCK_ID },
          [{ $set: { ts: { $max: [{ $add: [{ $ifNull: ['$ts', 0] }, 1] }, Date.now()] } } }],
          { upsert: true, returnDocument: 'after', session: clientSession, maxTimeMS: this.maxTimeMs, writeConcern: { w: 'majority' } },
        )
        .catch((error: unknown) => {
          // A transaction held the clock past the time limit: the client may retry the history read.
          if (error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED) {
            throw new StorageUnavailableError(`History is waiting for a transaction that ran over ${this.maxTimeMs} ms; retry later`);
          }
          throw error;
        });
      if (!clock) throw new Error('The history clock document could not be read back');
      return await read(clock.ts, new MongoSession(clientSession));
    } finally {
      await clientSession.endSession();
    }
  }
}
