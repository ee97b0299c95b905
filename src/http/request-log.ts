/**
 * One log line and one metrics observation per API request. The line names the request (its id,
 * the client, the interaction, the resource type and the route template) and its outcome (status,
 * duration), and nothing a patient could be identified by: no ids, no query values, no bodies.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../ops/metrics';
import { describeRoute } from './route';

/** A caller's own request id is echoed when it is a plain token; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/**
 * Starts the log of one request on the FHIR base router (so `req.path` is relative to the base);
 * the line is written when the response has finished. Called by the FHIR pipeline (app.ts).
 */
export function requestLog(logger: Logger, metrics: ServerMetrics) {
  return (req: Request, res: Response): void => {
    const started = process.hrtime.bigint();
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const route = describeRoute(method, pathSegments(req.path), req.originalUrl.includes('?'));
      metrics.observeRequest({ interaction: route.interaction, resourceType: route.resourceType, status: res.statusCode, seconds });
      logger.info('request', {
        event: 'request',
        requestId,
        client: typeof res.locals.principal === 'string' ? res.locals.principal : undefined,
        method: req.method,
        interaction: route.interaction,
        resourceType: route.resourceType,
        route: route.template,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e4) / 10,
      });
    });
  };
}
