/**
 * Headers on every answer, and CORS. Every answer says nosniff and no-store (they carry patient
 * data, or tell who may see it); HSTS when configured for a server reached over TLS. CORS is off
 * unless origins are listed: a browser page from any other origin gets no CORS headers, so the
 * browser keeps the answer from it.
 */
import type { NextFunction, Request, Response } from 'express';
import type { ServerConfig } from '../config';

/** Request headers a FHIR client sends: auth, content, conditional requests, Prefer. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, If-Modified-Since, If-None-Exist, Prefer, X-Request-Id';
/** Response headers a browser client needs to read. */
const EXPOSED_HEADERS = 'Location, Content-Location, ETag, Last-Modified, WWW-Authenticate, Retry-After, X-Request-Id';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

export function perimeterHeaders(config: ServerConfig['perimeter']) {
  const fixed: Array<[string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Cache-Control', 'no-store'],
    ['X-Frame-Options', 'DENY'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Referrer-Policy', 'no-referrer'],
  ];
  if (config.hstsMaxAge > 0) fixed.push(['Strict-Transport-Security', `max-age=${config.hstsMaxAge}; includeSubDomains`]);
  const allowed = new Set(config.corsOrigins);

  return (req: Request, res: Response, next: NextFunction): void => {
    for (const [name, value] of fixed) res.setHeader(name, value);
    if (allowed.size === 0) return next();
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      // A preflight: answered here, before authentication (browsers send it without credentials).
      res.writeHead(204, {
        'Access-Control-Allow-Methods': METHODS,
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    next();
  };
}
