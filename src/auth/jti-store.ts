/**
 * The `jti` of every client assertion accepted, kept until the assertion expires, so that a
 * captured assertion cannot be replayed (SMART Backend Services; RFC 7523 section 3). Kept in the
 * database so that a restart does not forget them; the unique key makes the check atomic.
 */
import { JTI_COLLECTION } from '../storage/collections';
import { DuplicateKeyError, type DocumentCollection, type StorageEngine } from '../storage/port';


interface JtiRecord {
  /** "{client id} {jti}": a jti is unique per issuer. */
  _id: string;
  /** The assertion's expiry, epoch seconds. */
  exp: number;
}

const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 500;

export class JtiStore {
  private readonly collection: DocumentCollection<JtiRecord>;
  private nextPurge = 0;

  constructor(engine: StorageEngine) {
    this.collection = engine.collection<JtiRecord>(JTI_COLLECTION);
  }

  /** Records the jti; false when it was already seen (a replay). */
  async remember(clientId: string, jti: string, exp: number): Promise<boolean> {
    await this.purge();
    try {
      await this.collection.insertOne({ _id: `${clientId} ${jti}`, exp });
      return true;
    } catch (error) {
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
  }

  /** Drops the jtis whose assertions have expired: those can no longer be presented anyway. */
  private async purge(): Promise<void> {
    const now = Date.now();
    if (now < this.nextPurge) return;
    this.nextPurge = now + PURGE_EVERY_MS;
    const expired = await this.collection.find({ exp: { $lt: Math.floor(now / 1000) } }, { limit: PURGE_BATCH });
    for (const record of expired) await this.collection.deleteOne({ _id: record._id });
  }
}
