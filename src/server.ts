/**
 * The composition root: opens storage, builds the services each layer needs, and wires them into
 * the HTTP app. The only module that knows every layer.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type express from 'express';
import { type AuthService, createAuth } from './auth';
import type { ServerConfig } from './config';
import { resourceTypes } from './fhir/definitions';
import { createApp } from './http/app';
import { prepareConditionLocks } from './interactions/conditional';
import { createMetricsApp } from './http/operations-endpoints';
import { instrumentEngine, instrumentValidator } from './ops/instrument';
import { ServerMetrics } from './ops/metrics';
import { Readiness, settledCheck } from './ops/readiness';
import { countStoredResources, probeStorage } from './ops/storage-checks';
import { OperationRegistry } from './interactions/operations/registry';
import type { Services } from './interactions/types';
import { ScopePolicy } from './auth/policy';
import { AuditTrail } from './audit/audit-trail';
import { validateOperation } from './interactions/operations/validate';
import { startValidationService } from './validation';
import { createLogger, type Logger } from './logger';
import { registerMtmOperations } from './mtm/operations';
import { ExportJobStore } from './bulk/export-jobs';
import { exportOperations } from './bulk/export-operations';
import { BulkExportService } from './bulk/export-service';
import { reviewLifecycleRule } from './mtm/lifecycle/review-lifecycle';
import { prescriberResponseRule } from './mtm/interventions/response-rule';
import { loadConformanceResources, mtmProfileTypes, mtmSearchParameters } from './conformance';
import { seedConformanceResources } from './seed-conformance';
import { ResourceRepository } from './repository/repository';
import { createSearchIndex, createSearchService, reindexStale, RuntimeSearchParameters } from './search';
import { CommitHooks } from './storage/commit-hooks';
import { reindexStatusOperation } from './interactions/operations/reindex-status';
import { openStorageEngine } from './storage/open-engine';
import { answerClientError } from './http/client-errors';
import { createSubscriptions, subscriptionOwners } from './subscriptions';

/** Read AuditEvents are stored together at most this long after their request, or once this many wait. */
const AUDIT_FLUSH_MS = 1000;
const AUDIT_MAX_BUFFERED = 200;

export interface FhirServer {
  app: express.Express;
  /** The Prometheus endpoint, to be served on its own port (METRICS_PORT). */
  metricsApp: express.Express;
  services: Services;
  /** Storage as the server itself uses it, with no client's access policy: for the command-line tools. */
  repository: ResourceRepository;
  /** The client registry and token verification (src/auth). */
  auth: AuthService;
  logger: Logger;
  metrics: ServerMetrics;
  readiness: Readiness;
  close(): Promise<void>;
}

export async function buildServer(config: ServerConfig, logger: Logger = createLogger(config.logLevel, { format: config.logFormat })): Promise<FhirServer> {
  const metrics = new ServerMetrics();
  // The validation workers build and warm their pipelines while storage loads.
  const validator = instrumentValidator(
    startValidationService({
      lenientUnknownProfiles: config.validation.lenientUnknownProfiles,
      workers: config.validation.workers,
      structuralStage: config.validation.structuralStage,
      onWorkerReplaced: (exitCode) => logger.warn('A validation worker stopped and was replaced', { event: 'validation-worker-replaced', exitCode }),
    }),
    metrics,
  );
  const opened = await openStorageEngine(config).catch(async (error: unknown) => {
    await validator.close();
    throw error;
  });
  const engine = instrumentEngine(opened, metrics, (error) => logger.error('A storage transaction failed', error, { event: 'storage-error' }));
  const commitHooks = new CommitHooks(engine, (error) => logger.error('Work after a commit failed', error, { event: 'after-commit-error' }));
  const searchIndex = createSearchIndex(mtmSearchParameters());
  const repository = new ResourceRepository(engine, searchIndex.indexer);
  await repository.init(resourceTypes());
  await prepareConditionLocks(engine);
  // SearchParameters clients made active are applied before the start-up re-index, so it includes them.
  const runtimeParameters = new RuntimeSearchParameters(repository, searchIndex.registry, searchIndex.indexer, commitHooks, config.searchReindex, logger);
  const applied = await runtimeParameters.load();
  if (applied) logger.info(`Applied ${applied} stored run-time search parameters`, { event: 'search-parameters-loaded', searchParameters: applied });
  const reindexed = await reindexStale(repository, searchIndex.indexer, resourceTypes());
  if (reindexed) logger.info(`Re-indexed the search values of ${reindexed} stored resources`, { event: 'reindex', resources: reindexed });
  const search = createSearchService(repository, searchIndex, config.search);
  const audit = new AuditTrail(repository, {
    flushMs: AUDIT_FLUSH_MS,
    maxBuffered: AUDIT_MAX_BUFFERED,
    onError: (error) => logger.error('Storing buffered AuditEvents failed; they stay buffered', error, { event: 'audit-error' }),
  });
  const services: Services = {
    config,
    repository,
    validator,
    operations: new OperationRegistry(),
    access: new ScopePolicy(repository, searchIndex.indexer, search),
    profileTypes: mtmProfileTypes(),
    search,
    audit,
  };
  repository
    .addWriteRule(runtimeParameters.writeRule())
    .addWriteRule(reviewLifecycleRule({ repository, validator, policy: { tmrCadenceMonths: config.mtm.tmrCadenceMonths } }))
    .addWriteRule(prescriberResponseRule({ repository, validator }));
  services.operations.register(validateOperation);
  services.operations.register(reindexStatusOperation(runtimeParameters));
  registerMtmOperations(services.operations);
  const bulkExport = new BulkExportService(
    { repository, search, access: services.access, jobs: new ExportJobStore(engine), logger, directory: path.join(config.dataDir, 'bulk-export') },
    [...resourceTypes()].sort(),
    config.bulkExportRetentionMinutes * 60_000,
  );
  for (const operation of exportOperations(bulkExport)) services.operations.register(operation);
  await seedConformanceResources(repository, loadConformanceResources());
  const auth = await createAuth(config, engine);
  const subscriptions = createSubscriptions({
    repository,
    registry: searchIndex.registry,
    indexer: searchIndex.indexer,
    compiler: search,
    access: services.access,
    ownerOf: subscriptionOwners({
      get: (id) => auth.clients.get(id),
      required: () => auth.authenticator.required(),
    }),
    logger,
    settings: config.subscriptions,
    commitHooks,
  });
  repository.addWriteRule(subscriptions.rule);
  await validator.ready;
  const resumed = await bulkExport.resume();
  if (resumed) logger.info(`Resumed ${resumed} unfinished bulk export jobs`, { event: 'bulk-export-resumed', jobs: resumed });
  await runtimeParameters.start(); // re-indexes of stored resources resume in the background
  await subscriptions.start();
  metrics.countStoredWith(() => countStoredResources(repository, resourceTypes()));
  const readiness = new Readiness()
    .add('storage', () => probeStorage(engine))
    .add('validation', settledCheck(validator.ready, 'validation workers'));
  const app = createApp(services, logger, { metrics, readiness }, auth);
  const close = async () => {
    await bulkExport.close(); // running exports stop where they are and run again at the next start
    await runtimeParameters.close(); // likewise a re-index, after its current batch
    await subscriptions.close(); // notifications not yet sent stay pending in storage for the next start
    await audit.close(); // buffered read events are stored before storage closes
    await validator.close();
    await engine.close();
  };
  return { app, metricsApp: createMetricsApp(metrics), services, repository, auth, logger, metrics, readiness, close };
}

/**
 * Starts listening (on every interface when host is undefined); resolves once the port is bound.
 * The perimeter's connection limits apply here: a slow sender of headers or body is cut off (408)
 * instead of holding a connection for Node's default 300 s, and connections beyond the cap are
 * closed at once.
 */
export function listen(server: FhirServer, port: number, host?: string): Promise<Server> {
  const { perimeter } = server.services.config;
  const http = createServer(
    {
      headersTimeout: perimeter.headersTimeoutMs,
      requestTimeout: perimeter.requestTimeoutMs,
      // How often Node looks for requests past those limits (its default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, perimeter.headersTimeoutMs),
    },
    server.app,
  );
  http.maxConnections = perimeter.maxConnections;
  http.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    const done = () => {
      http.off('error', reject);
      resolve(http);
    };
    if (host === undefined) http.listen(port, done);
    else http.listen(port, host, done);
  });
}

/** Starts the Prometheus listener on its own port and interface; resolves once it is bound. */
export function listenMetrics(server: FhirServer, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const http = server.metricsApp.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(http)));
  });
}
