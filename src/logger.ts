/** A minimal levelled logger writing one line per event to stderr/stdout. */
import type { LogLevel } from './config';

const ORDER: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface Logger {
  error(message: string, error?: unknown): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function createLogger(level: LogLevel): Logger {
  const enabled = (l: LogLevel) => ORDER[l] <= ORDER[level];
  const line = (l: LogLevel, message: string) => `${new Date().toISOString()} ${l.toUpperCase()} ${message}`;
  return {
    error: (message, error) => {
      if (!enabled('error')) return;
      const detail = error instanceof Error ? `: ${error.stack ?? error.message}` : error !== undefined ? `: ${String(error)}` : '';
      console.error(line('error', message + detail));
    },
    warn: (message) => enabled('warn') && console.warn(line('warn', message)),
    info: (message) => enabled('info') && console.log(line('info', message)),
    debug: (message) => enabled('debug') && console.log(line('debug', message)),
  };
}
