/**
 * The active Subscriptions by the resource type of their criteria, held in memory so that a write
 * learns in no time whether anyone may want to hear about it. Loaded at start; kept current after
 * each committed write of a Subscription (and corrected by the deliveries when one is gone).
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { ResourceDocument } from '../storage/collections';
import type { DocumentCollection } from '../storage/port';

/** The type a criteria is about, without judging the rest (the write rule has checked it). */
function criteriaType(criteria: string | undefined): string | undefined {
  return criteria ? /^([A-Za-z]+)(\?|$)/.exec(criteria)?.[1] : undefined;
}

export class ActiveSubscriptions {
  /** Subscription id -> the resource type its criteria is about. */
  private readonly types = new Map<string, string>();

  put(subscription: Subscription): void {
    const id = subscription.id as string;
    const type = criteriaType(subscription.criteria);
    if (subscription.status === 'active' && type) this.types.set(id, type);
    else this.types.delete(id);
  }

  remove(id: string): void {
    this.types.delete(id);
  }

  /** Ids of the active Subscriptions about resources of `type`. */
  of(type: string): string[] {
    const ids: string[] = [];
    for (const [id, t] of this.types) if (t === type) ids.push(id);
    return ids;
  }

  async load(collection: DocumentCollection<ResourceDocument>): Promise<number> {
    const docs = await collection.find({ deleted: { $ne: true } }, { limit: 100_000 });
    for (const doc of docs) if (doc.resource) this.put(doc.resource as Subscription);
    return this.types.size;
  }
}
