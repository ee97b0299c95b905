/**
 * The two unauthenticated endpoints a SMART Backend Services client starts from: discovery at
 * {base}/.well-known/smart-configuration and the token endpoint at {base}/auth/token.
 */
import express, { type Request, type Response } from 'express';
import { smartConfiguration, TOKEN_PATH, type AuthService } from '../auth';
import { isFhirError } from '../fhir/outcome';
import type { Logger } from '../logger';
import type { RateLimiter } from './rate-limit';

/** The largest token request accepted: an assertion is a few kB. */
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

/** Every path the router below serves (app.ts consults it only for these). */
export const AUTH_ROUTE_PATHS = ['/.well-known/smart-configuration', `/${TOKEN_PATH}`];

function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** `limiter` counts token requests per network address: the caller is not authenticated yet. */
export function authRoutes(auth: AuthService, baseUrlOf: (req: Request) => string, logger: Logger, limiter: RateLimiter): express.Router {
  const router = express.Router();
  router.get('/.well-known/smart-configuration', (req, res) => sendJson(res, 200, smartConfiguration(baseUrlOf(req))));

  router.post(`/${TOKEN_PATH}`, express.raw({ type: () => true, limit: MAX_TOKEN_REQUEST_BYTES }), async (req: Request, res: Response) => {
    try {
      limiter.take(`address ${req.socket.remoteAddress}`);
      const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'Send the token request as application/x-www-form-urlencoded' });
      }
      const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const result = await auth.token(new URLSearchParams(body), baseUrlOf(req));
      if (result.status !== 200) {
        logger.info('token request refused', { event: 'token-refused', error: String(result.body.error), reason: String(result.body.error_description) });
      }
      sendJson(res, result.status, result.body, result.headers);
    } catch (error) {
      if (isFhirError(error)) return sendJson(res, error.status, error.outcome, error.headers);
      logger.error('Unexpected error at the token endpoint', error, { event: 'unexpected-error' });
      sendJson(res, 500, { error: 'server_error', error_description: 'Internal server error; the incident has been logged' });
    }
  });
  router.all(`/${TOKEN_PATH}`, (_req, res) => sendJson(res, 405, { error: 'invalid_request', error_description: 'Use POST' }, { Allow: 'POST' }));
  return router;
}
