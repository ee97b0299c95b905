/**
 * The pending notifications (collection `subscription_deliveries`): one document per version written
 * and active Subscription of its type, inserted inside the write's own transaction, so that a write
 * that commits is never without its pending notification (even if the server stops right after) and
 * one that rolls back leaves none. Whether the version matches the criteria is decided at delivery.
 */
import type { DocumentCollection, StorageEngine, StorageSession } from '../storage/port';

export const DELIVERY_COLLECTION = 'subscription_deliveries';

export interface PendingDelivery {
  /** "{subscription}:{type}/{id}/{vid}": one notification per version and Subscription. */
  _id: string;
  subscription: string;
  type: string;
  rid: string;
  vid: number;
  /** Order of the writes, per Subscription: notifications go out in it. */
  seq: number;
  /** Not before (epoch ms): the back-off after a failed attempt. */
  due: number;
  attempts: number;
}

export class DeliveryStore {
  private readonly deliveries: DocumentCollection<PendingDelivery>;
  private lastSeq = 0;

  constructor(engine: StorageEngine, private readonly now: () => number = Date.now) {
    this.deliveries = engine.collection<PendingDelivery>(DELIVERY_COLLECTION);
  }

  async init(): Promise<void> {
    await this.deliveries.createIndex({ subscription: 1, seq: 1 });
    await this.deliveries.createIndex({ due: 1 });
  }

  async add(subscription: string, version: { type: string; id: string; vid: number }, session: StorageSession): Promise<void> {
    const now = this.now();
    // Strictly increasing within this process, starting from the clock, so a restart continues after.
    this.lastSeq = Math.max(this.lastSeq + 1, now * 1000);
    await this.deliveries.replaceOne(
      { _id: `${subscription}:${version.type}/${version.id}/${version.vid}` },
      { _id: `${subscription}:${version.type}/${version.id}/${version.vid}`, subscription, type: version.type, rid: version.id, vid: version.vid, seq: this.lastSeq, due: now, attempts: 0 },
      { upsert: true, session },
    );
  }

  /** The Subscriptions with a notification due now, oldest first, leaving out those named. */
  async dueSubscriptions(limit: number, except: string[]): Promise<string[]> {
    const filter = except.length ? { due: { $lte: this.now() }, subscription: { $nin: except } } : { due: { $lte: this.now() } };
    const due = await this.deliveries.find(filter, { sort: { due: 1 }, limit, projection: { subscription: 1 } });
    return [...new Set(due.map((d) => d.subscription))];
  }

  /** When the next notification waiting for its back-off becomes due, if any. */
  async nextDue(): Promise<number | undefined> {
    const [next] = await this.deliveries.find({ due: { $gt: this.now() } }, { sort: { due: 1 }, limit: 1, projection: { due: 1 } });
    return next?.due;
  }

  /** The Subscription's oldest pending notification. */
  async head(subscription: string): Promise<PendingDelivery | undefined> {
    const [head] = await this.deliveries.find({ subscription }, { sort: { seq: 1 }, limit: 1 });
    return head;
  }

  async retryLater(delivery: PendingDelivery, due: number): Promise<void> {
    await this.deliveries.replaceOne({ _id: delivery._id }, { ...delivery, attempts: delivery.attempts + 1, due });
  }

  async done(delivery: PendingDelivery): Promise<void> {
    await this.deliveries.deleteOne({ _id: delivery._id });
  }

  /** Drops every notification of a Subscription (it is in error, off or gone); returns how many. */
  async dropAll(subscription: string): Promise<number> {
    let dropped = 0;
    for (;;) {
      const batch = await this.deliveries.find({ subscription }, { limit: 500, projection: { _id: 1 } });
      if (batch.length === 0) return dropped;
      for (const d of batch) dropped += (await this.deliveries.deleteOne({ _id: d._id })).deletedCount;
    }
  }
}
