/**
 * Delivers the pending notifications. Each Subscription is a lane that sends its notifications one
 * at a time, in the order of the writes; at most `concurrency` lanes run at once, so memory holds at
 * most that many notifications whatever the backlog (which waits on disk). A failed attempt is
 * retried after an exponential back-off; after `maxAttempts` (or at once, for an endpoint the policy
 * refuses) the Subscription is set to status error with the reason in Subscription.error, and its
 * pending notifications are dropped. Setting it active again resumes delivery of new writes.
 * Pending notifications survive a restart: they are in storage, and start() picks them up.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/outcome';
import type { AccessPolicyPort, SecurityContext } from '../interactions/types';
import type { Logger } from '../logger';
import type { ResourceRepository } from '../repository/repository';
import type { CriteriaParser } from '../search/criteria';
import type { ActiveSubscriptions } from './active-subscriptions';
import type { DeliveryStore, PendingDelivery } from './delivery-store';
import type { EndpointPolicy } from './endpoint-policy';
import type { CriteriaMatcher } from './matcher';
import { sendNotification } from './rest-hook';
import { checkSubscription, type RestHook } from './subscription-resource';

export interface DeliveryOptions {
  concurrency: number;
  maxAttempts: number;
  /** Back-off after the first failure; doubled after each further one, up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
}

export interface DispatcherDeps {
  repository: ResourceRepository;
  deliveries: DeliveryStore;
  active: ActiveSubscriptions;
  parser: CriteriaParser;
  policy: EndpointPolicy;
  matcher: CriteriaMatcher;
  access: AccessPolicyPort;
  /** The client a Subscription notifies on behalf of, or why it has none. */
  ownerOf(subscription: Subscription): Promise<SecurityContext | { refused: string }>;
  logger: Logger;
  options: DeliveryOptions;
  now?: () => number;
}

type Step = 'next' | 'stop';

export class DeliveryDispatcher {
  private readonly lanes = new Map<string, Promise<void>>();
  /** Subscriptions waiting out a back-off, until when: their later notifications wait too (write order). */
  private readonly backingOff = new Map<string, number>();
  private readonly aborts = new Set<AbortController>();
  private timer?: NodeJS.Timeout;
  private pumping = false;
  private again = false;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Looks for due notifications (after a commit, a back-off, or at start). */
  wake = (): void => {
    if (this.closed) return;
    void this.pump().catch((error: unknown) => this.deps.logger.error('Looking for subscription notifications failed', error, { event: 'subscription-error' }));
  };

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const free = this.deps.options.concurrency - this.lanes.size;
        if (free <= 0) break; // a lane that ends wakes the pump again
        const now = this.now();
        for (const [subscription, until] of this.backingOff) if (until <= now) this.backingOff.delete(subscription);
        for (const subscription of await this.deps.deliveries.dueSubscriptions(free * 4, [...this.backingOff.keys()])) {
          if (this.lanes.size >= this.deps.options.concurrency || this.closed) break;
          if (!this.lanes.has(subscription)) this.startLane(subscription);
        }
      } while (this.again && !this.closed);
      await this.scheduleNext();
    } finally {
      this.pumping = false;
    }
  }

  private async scheduleNext(): Promise<void> {
    const next = await this.deps.deliveries.nextDue();
    if (next === undefined || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.wake, Math.max(0, next - this.now()));
    this.timer.unref();
  }

  private startLane(subscription: string): void {
    const lane = this.runLane(subscription)
      .catch((error: unknown) => this.deps.logger.error('A subscription delivery failed unexpectedly', error, { event: 'subscription-error', subscription }))
      .finally(() => {
        this.lanes.delete(subscription);
        this.wake();
      });
    this.lanes.set(subscription, lane);
  }

  private async runLane(subscription: string): Promise<void> {
    while (!this.closed) {
      const head = await this.deps.deliveries.head(subscription);
      if (!head) return;
      if (head.due > this.now()) {
        this.backingOff.set(subscription, head.due);
        return;
      }
      if ((await this.deliver(head)) === 'stop') return;
    }
  }

  private async deliver(delivery: PendingDelivery): Promise<Step> {
    const { repository, deliveries } = this.deps;
    const doc = await repository.readDocument('Subscription', delivery.subscription);
    const subscription = doc && !doc.deleted ? (doc.resource as Subscription) : undefined;
    if (!subscription || subscription.status !== 'active') {
      if (!subscription) this.deps.active.remove(delivery.subscription);
      await deliveries.dropAll(delivery.subscription);
      return 'stop';
    }
    let hook: RestHook;
    try {
      hook = checkSubscription(subscription, this.deps.parser, this.deps.policy);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      return this.fail(subscription, error.outcome.issue?.[0]?.diagnostics ?? 'the Subscription can no longer be honoured');
    }
    const owner = await this.deps.ownerOf(subscription);
    if ('refused' in owner) return this.fail(subscription, owner.refused);
    const resource = await this.version(delivery);
    if (!resource || !(await this.notifies(hook, owner, resource))) {
      await deliveries.done(delivery);
      return 'next';
    }
    const abort = new AbortController();
    this.aborts.add(abort);
    const result = await sendNotification(hook, resource, { policy: this.deps.policy, timeoutMs: this.deps.options.timeoutMs, signal: abort.signal }).finally(() =>
      this.aborts.delete(abort),
    );
    if (this.closed) return 'stop'; // an attempt cut short by close() is made again at the next start
    if (result.ok) {
      await deliveries.done(delivery);
      this.deps.logger.debug('Subscription notified', { event: 'subscription-notified', subscription: delivery.subscription, attempts: delivery.attempts + 1 });
      return 'next';
    }
    const attempts = delivery.attempts + 1;
    this.deps.logger.warn('A subscription notification failed', { event: 'subscription-delivery-failed', subscription: delivery.subscription, attempt: attempts, reason: result.reason });
    if (result.permanent || attempts >= this.deps.options.maxAttempts) {
      return this.fail(subscription, result.permanent ? result.reason : `${result.reason} (${attempts} attempts)`);
    }
    const { retryBaseMs, retryMaxMs } = this.deps.options;
    const due = this.now() + Math.min(retryMaxMs, retryBaseMs * 2 ** (attempts - 1));
    await deliveries.retryLater(delivery, due);
    this.backingOff.set(delivery.subscription, due);
    return 'stop'; // the lane ends; the back-off timer wakes it
  }

  /** The version the notification is about; undefined when it is no longer readable (e.g. expunged). */
  private async version(delivery: PendingDelivery): Promise<Resource | undefined> {
    try {
      return (await this.deps.repository.vread(delivery.type, delivery.rid, delivery.vid)).resource;
    } catch (error) {
      if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
      throw error;
    }
  }

  /** The version matches the criteria, and the Subscription's owner may read it (never more than its client could). */
  private async notifies(hook: RestHook, owner: SecurityContext, resource: Resource): Promise<boolean> {
    if (!(await this.deps.matcher.matches(hook.criteria, resource))) return false;
    return this.deps.access.mayAccess(owner, resource, 'r');
  }

  /** Sets the Subscription to error with the reason, and drops what it had pending. */
  private async fail(subscription: Subscription, reason: string): Promise<Step> {
    const id = subscription.id as string;
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.deps.repository.readDocument('Subscription', id);
      const current = doc && !doc.deleted ? (doc.resource as Subscription) : undefined;
      if (!current || current.status !== 'active') break;
      try {
        await this.deps.repository.update({ ...current, id, status: 'error', error: reason }, { ifMatch: doc?.vid });
        break;
      } catch (error) {
        if (!(error instanceof FhirError && error.status === 412)) throw error;
      }
    }
    this.deps.active.remove(id);
    const dropped = await this.deps.deliveries.dropAll(id);
    this.deps.logger.warn('A subscription was set to error', { event: 'subscription-error-status', subscription: id, dropped });
    return 'stop';
  }

  start(): void {
    this.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const abort of this.aborts) abort.abort();
    await Promise.all(this.lanes.values());
  }
}
