/**
 * Endpoints for the people who run the server, outside the FHIR base and its authentication:
 * liveness and readiness for orchestrators, and the Prometheus scrape endpoint (served on its own
 * listener, so that it is never public with the API). None of them answers patient data.
 */
import express, { type Request, type Response } from 'express';
import type { ServerMetrics } from '../ops/metrics';
import type { Readiness } from '../ops/readiness';

const NO_STORE = { 'Cache-Control': 'no-store' };

/** Every path healthRouter serves (app.ts consults it only for these). */
export const HEALTH_PATHS = ['/healthz', '/readyz'];

/** GET /healthz (the process answers) and GET /readyz (storage, validation, indexes ready). */
export function healthRouter(readiness: Readiness): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req: Request, res: Response) => {
    res.status(200).set(NO_STORE).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req: Request, res: Response) => {
    const { ready, checks } = await readiness.evaluate();
    res.status(ready ? 200 : 503).set(NO_STORE).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}

/** The app behind METRICS_PORT: GET /metrics in the Prometheus text format. */
export function createMetricsApp(metrics: ServerMetrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req: Request, res: Response) => {
    try {
      const text = await metrics.registry.metrics();
      res.status(200).set({ ...NO_STORE, 'Content-Type': metrics.registry.contentType }).send(text);
    } catch {
      res.status(500).type('text/plain').send('metrics collection failed\n');
    }
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('only /metrics is served here\n');
  });
  return app;
}
