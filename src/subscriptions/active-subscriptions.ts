/**
 * The active Subscriptions by the resource type of their criteria, held in memory so that a write
 * learns in no time whether anyone may want to hear about it. Loaded at start; kept current after
 * each committed write of a Subscription (and corrected by the deliveries when one is gone). Their
 * ends are kept too, for the dispatcher to turn each off when its end comes.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { ResourceDocument } from '../storage/collections';
import type { DocumentCollection } from '../storage/port';
import { endOf } from './subscription-resource';

interface ActiveSubscription {
  /** The resource type its criteria is about. */
  type: string;
  /** Subscription.end in epoch ms. */
  end?: number;
}

/** The type a criteria is about, without judging the rest (the write rule has checked it). */
function criteriaType(criteria: string | undefined): string | undefined {
  return criteria ? /^([A-Za-z]+)(\?|$)/.exec(criteria)?.[1] : undefined;
}

export class ActiveSubscriptions {
  private readonly byId = new Map<string, ActiveSubscription>();

  put(subscription: Subscription): void {
    const id = subscription.id as string;
    const type = criteriaType(subscription.criteria);
    if (subscription.status === 'active' && type) this.byId.set(id, { type, end: endOf(subscription) });
    else this.byId.delete(id);
  }

  remove(id: string): void {
    this.byId.delete(id);
  }

  /** Ids of the active Subscriptions about resources of `type`. */
  of(type: string): string[] {
    const ids: string[] = [];
    for (const [id, s] of this.byId) if (s.type === type) ids.push(id);
    return ids;
  }

  /** Ids of the active Subscriptions whose end has come. */
  ended(now: number): string[] {
    const ids: string[] = [];
    for (const [id, s] of this.byId) if (s.end !== undefined && s.end <= now) ids.push(id);
    return ids;
  }

  /** The earliest end still to come, in epoch ms. */
  nextEnd(now: number): number | undefined {
    let next: number | undefined;
    for (const s of this.byId.values()) if (s.end !== undefined && s.end > now && (next === undefined || s.end < next)) next = s.end;
    return next;
  }

  async load(collection: DocumentCollection<ResourceDocument>): Promise<number> {
    const docs = await collection.find({ deleted: { $ne: true } }, { limit: 100_000 });
    for (const doc of docs) if (doc.resource) this.put(doc.resource as Subscription);
    return this.byId.size;
  }
}
