/**
 * The default posture (DESIGN.md decision 7): with no client registered and AUTH left at auto, the
 * server runs open for local use but listens on 127.0.0.1 only. Any other interface needs
 * authentication, or AUTH=off said explicitly, which is warned about.
 */
import type { ServerConfig } from '../config';

export interface ListenPosture {
  /** The interface to bind; undefined binds every interface. */
  host?: string;
  /** Says how callers are authenticated, for the start-up line. */
  note: string;
  /** Logged as a warning at start when set. */
  warning?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function listenPosture(config: ServerConfig, clientsRegistered: boolean): ListenPosture {
  const { mode } = config.auth;
  if (mode === 'off') {
    return {
      host: config.host,
      note: 'authentication OFF',
      warning: 'AUTH=off: authentication is disabled, every caller may read and write every patient on every interface it listens on',
    };
  }
  if (mode === 'on' || clientsRegistered) {
    return { host: config.host, note: 'SMART Backend Services authentication required' };
  }
  const note = 'open: no client is registered, so requests need no token and the server listens on 127.0.0.1 only (register one with `npm run client -- add`)';
  if (config.host && !LOOPBACK.has(config.host)) {
    return { host: '127.0.0.1', note, warning: `HOST=${config.host} is not used while no client is registered: the open server stays on 127.0.0.1; register a client or set AUTH=on` };
  }
  return { host: config.host ?? '127.0.0.1', note };
}
