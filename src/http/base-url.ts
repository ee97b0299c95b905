/**
 * The absolute FHIR base URL used in links (Location, fullUrl, Bundle links) and as the audience of
 * access tokens. Never taken from the Host header, which any caller can set: PUBLIC_BASE_URL when
 * configured, otherwise the configured listen address and port (PORT=0: the port the connection
 * arrived on, which is the one the server was given).
 */
import type { Request } from 'express';
import type { ServerConfig } from '../config';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export function baseUrlResolver(config: ServerConfig): (req: Request) => string {
  if (config.publicBaseUrl) {
    const fixed = config.publicBaseUrl;
    return () => fixed;
  }
  const host = !config.host || WILDCARDS.has(config.host) ? 'localhost' : config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  if (config.port !== 0) {
    const fixed = `http://${host}:${config.port}${config.basePath}`;
    return () => fixed;
  }
  // One string per local port (normally just one); built once, not per request.
  const byPort = new Map<number | undefined, string>();
  return (req) => {
    const port = req.socket.localPort;
    let url = byPort.get(port);
    if (url === undefined) byPort.set(port, (url = `http://${host}:${port ?? 0}${config.basePath}`));
    return url;
  };
}
