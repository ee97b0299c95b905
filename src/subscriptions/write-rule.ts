/**
 * The one hook where writes commit. For every version written, inside its transaction: one pending
 * notification per active Subscription of its type (delivery-store.ts), and a callback that wakes
 * the deliveries only once the transaction is durable (storage/commit-hooks.ts), so a write that
 * rolls back (a failed transaction Bundle) never notifies. Subscriptions themselves are checked
 * (422) and a requested one becomes active as it is stored (R4: the server activates it).
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { WriteRule } from '../repository/repository';
import type { CriteriaParser } from '../search/criteria';
import type { CommitHooks } from '../storage/commit-hooks';
import type { ActiveSubscriptions } from './active-subscriptions';
import type { DeliveryStore } from './delivery-store';
import type { EndpointPolicy } from './endpoint-policy';
import { checkSubscription } from './subscription-resource';

export interface SubscriptionRuleDeps {
  parser: CriteriaParser;
  policy: EndpointPolicy;
  active: ActiveSubscriptions;
  deliveries: DeliveryStore;
  /** Called after a commit that left notifications pending. */
  wake(): void;
  commitHooks: Pick<CommitHooks, 'afterCommit'>;
}

export function subscriptionWriteRule(deps: SubscriptionRuleDeps): WriteRule {
  return {
    prepare(next: Resource): Resource | undefined {
      if (next.resourceType !== 'Subscription' || next.status !== 'requested') return undefined;
      return { ...next, status: 'active' };
    },
    check(next: Resource): void {
      if (next.resourceType === 'Subscription') checkSubscription(next, deps.parser, deps.policy);
    },
    async after(stored: Resource, _previous: Resource | undefined, session): Promise<void> {
      if (stored.resourceType === 'Subscription') {
        const subscription = stored as Subscription;
        deps.commitHooks.afterCommit(session, () => deps.active.put(subscription));
      }
      const subscribers = deps.active.of(stored.resourceType);
      if (subscribers.length === 0) return;
      const version = { type: stored.resourceType, id: stored.id as string, vid: Number(stored.meta?.versionId) };
      for (const subscription of subscribers) await deps.deliveries.add(subscription, version, session);
      deps.commitHooks.afterCommit(session, deps.wake);
    },
  };
}
