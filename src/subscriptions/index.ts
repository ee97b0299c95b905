/**
 * R4 rest-hook Subscriptions (issue 15 part 5): the composition root builds them with
 * createSubscriptions, registers `rule` on the repository and calls start() once storage is ready.
 *
 *   write (in its transaction) -> write-rule.ts: pending notification per active Subscription of the type
 *   commit (durable)            -> dispatcher wakes -> matcher (criteria, owner's access) -> rest-hook.ts
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { AccessPolicyPort, SecurityContext } from '../interactions/types';
import type { Logger } from '../logger';
import type { ResourceRepository, SearchIndexer, WriteRule } from '../repository/repository';
import { CriteriaParser } from '../search/criteria';
import type { SearchParameterRegistry } from '../search/registry';
import type { CommitHooks } from '../storage/commit-hooks';
import { ActiveSubscriptions } from './active-subscriptions';
import { DeliveryStore } from './delivery-store';
import { DeliveryDispatcher, type DeliveryOptions } from './dispatcher';
import type { EndpointPolicy } from './endpoint-policy';
import { type CriteriaCompiler, CriteriaMatcher } from './matcher';
import { subscriptionWriteRule } from './write-rule';

export type { ClientDirectory } from './owner';
export { subscriptionOwners } from './owner';

export interface SubscriptionSettings extends DeliveryOptions, EndpointPolicy {}

export interface SubscriptionDeps {
  repository: ResourceRepository;
  registry: SearchParameterRegistry;
  indexer: SearchIndexer;
  compiler: CriteriaCompiler;
  access: AccessPolicyPort;
  ownerOf(subscription: Subscription): Promise<SecurityContext | { refused: string }>;
  logger: Logger;
  settings: SubscriptionSettings;
  commitHooks: Pick<CommitHooks, 'afterCommit'>;
}

export interface Subscriptions {
  rule: WriteRule;
  /** Loads the active Subscriptions and sends what was left pending at the last stop. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createSubscriptions(deps: SubscriptionDeps): Subscriptions {
  const { repository, settings } = deps;
  const parser = new CriteriaParser(deps.registry);
  const policy: EndpointPolicy = { allowPrivate: settings.allowPrivate };
  const active = new ActiveSubscriptions();
  const deliveries = new DeliveryStore(repository.engine);
  const dispatcher = new DeliveryDispatcher({
    repository,
    deliveries,
    active,
    parser,
    policy,
    matcher: new CriteriaMatcher(deps.compiler, deps.indexer),
    access: deps.access,
    ownerOf: deps.ownerOf,
    logger: deps.logger,
    options: settings,
  });
  return {
    rule: subscriptionWriteRule({ parser, policy, active, deliveries, wake: dispatcher.wake, commitHooks: deps.commitHooks }),
    async start() {
      await deliveries.init();
      const count = await active.load(await repository.collection('Subscription'));
      if (count) deps.logger.info(`${count} active Subscriptions`, { event: 'subscriptions-loaded', subscriptions: count });
      dispatcher.start();
    },
    close: () => dispatcher.close(),
  };
}
