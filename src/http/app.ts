/**
 * The Express application: turns HTTP requests into FhirRequests for the dispatcher, and
 * FhirResponses (or errors) back into HTTP. Every error leaves as an OperationOutcome.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, isFhirError, notFound, outcome, issue, payloadTooLarge, unsupportedMediaType } from '../fhir/outcome';
import type { AuthService } from '../auth';
import { dispatchAudited } from '../interactions/audited-dispatch';
import { contextFor } from '../interactions/guarded-services';
import type { FhirRequest, Representation, RequestContext, SecurityContext, Services } from '../interactions/types';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../ops/metrics';
import type { Readiness } from '../ops/readiness';
import { StorageUnavailableError } from '../storage/port';
import { AUTH_ROUTE_PATHS, authRoutes } from './auth-routes';
import { baseUrlResolver } from './base-url';
import { perimeterHeaders } from './perimeter-headers';
import { RateLimiter } from './rate-limit';
import { bodyKindOf, parseJsonBody, type SizeLimits } from './body';
import { negotiate, type ResponseFormat } from './negotiation';
import { HEALTH_PATHS, healthRouter } from './operations-endpoints';
import { requestLog } from './request-log';

const DEFAULT_FORMAT: ResponseFormat = { contentType: 'application/fhir+json', pretty: false };

/**
 * Writes status and headers in one writeHead call (cheaper than a setHeader per header, which
 * showed in read profiles), with an explicit Content-Length so the body still goes unchunked.
 */
function send(res: Response, status: number, body: Resource | undefined, headers: Record<string, string>, format: ResponseFormat): void {
  if (body === undefined || status === 304 || status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = format.pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': `${format.contentType}; charset=utf-8`,
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Sends an operation's non-FHIR answer: whole, or streamed chunk by chunk with back-pressure. */
async function sendRepresentation(
  res: Response,
  status: number,
  representation: Representation,
  headers: Record<string, string>,
  logger: Logger,
): Promise<void> {
  const { contentType, content } = representation;
  if (typeof content === 'string' || Buffer.isBuffer(content)) {
    res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(content)) });
    res.end(content);
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': contentType });
  try {
    await pipeline(Readable.from(content), res);
  } catch (error) {
    // The client went away, or the source failed after the status line was sent: all that is left is to cut the response.
    if (!res.destroyed) res.destroy();
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.warn(`A streamed response ended early: ${(error as Error).message}`);
  }
}

function sendError(res: Response, error: FhirError, format: ResponseFormat): void {
  send(res, error.status, error.outcome, error.headers, format);
}

/** The store could not answer now: 503, and the client may retry after a short wait. */
function storageUnavailable(error: StorageUnavailableError): FhirError {
  return new FhirError(503, [issue('error', 'transient', error.message)], { 'Retry-After': '5' });
}

/** Body-parser errors carry a `type`; map them onto FHIR's statuses. */
function bodyParserError(error: unknown, maxBytes: number): FhirError | undefined {
  const type = (error as { type?: string } | null)?.type;
  if (type === 'entity.too.large') return payloadTooLarge(`The body exceeds the limit of ${maxBytes} bytes`);
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return unsupportedMediaType('Only UTF-8 bodies are supported');
  if (type === 'request.aborted' || type === 'request.size.invalid') return badRequest('The request body was incomplete');
  return undefined;
}

function decodeSegments(path: string): string[] {
  try {
    return path.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest('The URL path is not validly percent-encoded');
  }
}

function queryPairs(originalUrl: string): Array<[string, string]> {
  const at = originalUrl.indexOf('?');
  if (at < 0) return [];
  return [...new URLSearchParams(originalUrl.slice(at + 1))];
}

function toFhirRequest(req: Request, query: Array<[string, string]>, limits: SizeLimits): FhirRequest {
  const fhirRequest: FhirRequest = {
    // HEAD is a GET whose body Node's HTTP server leaves out.
    method: req.method === 'HEAD' ? 'GET' : req.method,
    segments: decodeSegments(req.path),
    query,
    headers: {
      'if-match': req.get('if-match'),
      'if-none-match': req.get('if-none-match'),
      'if-modified-since': req.get('if-modified-since'),
      'if-none-exist': req.get('if-none-exist'),
      prefer: req.get('prefer'),
      // Operations that answer something other than FHIR JSON (HTML, PDF) choose from it.
      accept: req.get('accept'),
    },
  };
  const raw = req.body as Buffer | undefined;
  if (Buffer.isBuffer(raw) && raw.length > 0 && req.method !== 'GET' && req.method !== 'HEAD') {
    fhirRequest.bodyKind = bodyKindOf(req.get('content-type'));
    if (fhirRequest.bodyKind === 'form') {
      // POST _search: form parameters join the query, as flat strings like the URL's.
      fhirRequest.query = [...query, ...new URLSearchParams(raw.toString('utf8'))];
    } else {
      fhirRequest.body = parseJsonBody(raw, limits);
    }
  }
  return fhirRequest;
}

export interface Observability {
  metrics: ServerMetrics;
  readiness: Readiness;
}

/** Unexpected errors are logged by route, never by URL: ids and query values can identify a patient. */
function logUnexpected(logger: Logger, req: Request, res: Response, error: unknown): void {
  logger.error('Unexpected error', error, { event: 'unexpected-error', requestId: res.locals.requestId as string | undefined, method: req.method });
}

/** Paths below the base that answer without a token: the CapabilityStatement (SMART discovery needs it). */
function isPublic(req: Request): boolean {
  return (req.path === '/metadata' || req.path === '/metadata/') && (req.method === 'GET' || req.method === 'HEAD');
}

/**
 * Whether a path (below its router's mount) may be one of a sub-router's: its routes match without
 * regard to case and with or without one trailing slash. Only a quick pre-check: the sub-router
 * still decides, and any other path skips it.
 */
function mayBeRoute(paths: readonly string[]): (path: string) => boolean {
  const known = new Set(paths.map((p) => p.toLowerCase()));
  return (path) => {
    const lower = path.toLowerCase();
    return known.has(lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower);
  };
}

const mayBeHealthRoute = mayBeRoute(HEALTH_PATHS);
const mayBeTokenRoute = mayBeRoute(AUTH_ROUTE_PATHS);

/** `auth` serves the token endpoint and turns each request into its SecurityContext. */
export function createApp(services: Services, logger: Logger, observability: Observability, auth: AuthService): express.Express {
  const { config } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(perimeterHeaders(config.perimeter));
  const health = healthRouter(observability.readiness);
  app.use((req: Request, res: Response, next: NextFunction) => (mayBeHealthRoute(req.path) ? health(req, res, next) : next()));

  const baseUrlOf = baseUrlResolver(config);
  const limiter = new RateLimiter(config.perimeter.rateLimitPerSecond, config.perimeter.rateLimitBurst);
  const { maxArrayLength, maxResourceElements, maxStringLength } = config.perimeter;
  const limits: SizeLimits = { maxArrayLength, maxResourceElements, maxStringLength };

  const logRequest = requestLog(logger, observability.metrics);
  const tokenRoutes = authRoutes(auth, baseUrlOf, logger, limiter);
  const readBody = express.raw({ type: () => true, limit: config.maxBodyBytes });

  // Who is calling is settled before the body is read: a caller without a valid token, or over its
  // rate, costs no body parsing.
  const authenticate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const address = req.socket.remoteAddress;
      const security: SecurityContext = isPublic(req)
        ? { principal: 'anonymous', scopes: [], address }
        : await auth.authenticator.authenticate(req.get('authorization'), baseUrlOf(req), address);
      res.locals.security = security;
      res.locals.principal = security.principal;
      // Anonymous callers (an open server, or the public endpoints) are told apart by address.
      limiter.take(security.principal === 'anonymous' ? `address ${address}` : security.principal);
      readBody(req, res, (error?: unknown) => (error ? next(error) : void answer(req, res).catch(next)));
    } catch (error) {
      if (isFhirError(error)) return sendError(res, error, DEFAULT_FORMAT);
      next(error);
    }
  };

  const answer = async (req: Request, res: Response): Promise<void> => {
    let format = DEFAULT_FORMAT;
    try {
      const query = queryPairs(req.originalUrl);
      const param = (name: string) => query.find(([k]) => k === name)?.[1];
      format = negotiate(param('_format'), req.get('accept'), param('_pretty'));
      const fhirRequest = toFhirRequest(req, query, limits);
      const ctx: RequestContext = contextFor(services, baseUrlOf(req), res.locals.security as SecurityContext);
      const response = await dispatchAudited(ctx, fhirRequest);
      if (response.representation) return await sendRepresentation(res, response.status, response.representation, response.headers, logger);
      send(res, response.status, response.body, response.headers, format);
    } catch (error) {
      if (isFhirError(error)) return sendError(res, error, format);
      if (error instanceof StorageUnavailableError) return sendError(res, storageUnavailable(error), format);
      logUnexpected(logger, req, res, error);
      sendError(res, new FhirError(500, [issue('fatal', 'exception', 'Internal server error; the incident has been logged')]), format);
    }
  };

  // The FHIR base runs one middleware, mounted without a router of its own, which calls the request
  // log, the token routes (only for their paths), authentication, the body reader and the answer
  // in turn: a router layer per step (and a sub-router for the token routes on every request)
  // showed as ~9% of a search's CPU.
  app.use(config.basePath || '/', (req: Request, res: Response, next: NextFunction) => {
    logRequest(req, res);
    if (!mayBeTokenRoute(req.path)) return void authenticate(req, res, next);
    tokenRoutes(req, res, (error?: unknown) => (error ? next(error) : void authenticate(req, res, next)));
  });

  app.use((req: Request, res: Response) => {
    sendError(res, notFound(`Nothing is served at ${req.path}; the FHIR API is at ${config.basePath || '/'}`), DEFAULT_FORMAT);
  });
  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const mapped = isFhirError(error) ? error : bodyParserError(error, config.maxBodyBytes);
    if (mapped) return sendError(res, mapped, DEFAULT_FORMAT);
    logUnexpected(logger, req, res, error);
    send(res, 500, outcome([issue('fatal', 'exception', 'Internal server error; the incident has been logged')]), {}, DEFAULT_FORMAT);
  });
  return app;
}
