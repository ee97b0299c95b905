/**
 * Structured JSON logs with pino: one object per line, ready for a log shipper. Callers pass a
 * message and, where it helps an operator, fields; they never pass patient data (bodies, query
 * values, resource contents), which is why the interface takes no free-form objects from requests.
 */
import pino, { type DestinationStream } from 'pino';
import type { LogFormat, LogLevel } from './config';

/** Fields of an event: ids, counts, durations, names. Never resource content or query values. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  error(message: string, error?: unknown, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

function prettyStream(): DestinationStream | undefined {
  try {
    // pino-pretty is a development dependency: a production install without it falls back to JSON.
    const pretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const pretty = options.format === 'pretty' && !options.destination ? prettyStream() : undefined;
  const base = pino(
    {
      level,
      base: { service: 'mtm-fhir-server' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous stdout: no line is lost when the process exits right after logging.
    options.destination ?? pretty ?? pino.destination(1),
  );
  if (options.format === 'pretty' && !pretty) base.warn('LOG_FORMAT=pretty needs the pino-pretty package; logging JSON');
  return {
    error: (message, error, fields) => base.error({ ...fields, err: error }, message),
    warn: (message, fields) => base.warn(fields ?? {}, message),
    info: (message, fields) => base.info(fields ?? {}, message),
    debug: (message, fields) => base.debug(fields ?? {}, message),
  };
}
