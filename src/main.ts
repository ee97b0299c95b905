/** Entry point: `npm start`. */
import { listenPosture } from './auth/posture';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { buildServer, listen, listenMetrics } from './server';

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  const server = await buildServer(config, logger);
  const posture = listenPosture(config, await server.auth.clients.any());
  if (posture.warning) logger.warn(posture.warning);
  const http = await listen(server, config.port, posture.host);
  const metricsHttp = config.metricsPort > 0 ? await listenMetrics(server, config.metricsPort, config.metricsHost) : undefined;
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const engine = server.services.repository.engine.kind;
  const where = engine === 'embedded' ? `embedded storage in ${config.dataDir}` : 'MongoDB storage';
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const shown = posture.host === undefined || posture.host === '0.0.0.0' || posture.host === '::' ? 'localhost' : posture.host;
  logger.info(`MTM FHIR server listening on http://${shown}:${port}${config.basePath} (${where}; ${posture.note}); ready in ${ms.toFixed(0)} ms`, {
    event: 'start',
    port,
    engine,
    auth: posture.note,
    startupMs: Math.round(ms),
    metrics: metricsHttp ? `http://${config.metricsHost}:${config.metricsPort}/metrics` : 'off',
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`, { event: 'shutdown', signal });
    metricsHttp?.close();
    http.close(() =>
      void server.close().then(() => {
        logger.info('Stopped', { event: 'stopped' });
        process.exit(0);
      }),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
