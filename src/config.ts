/**
 * The one place that reads the environment (DESIGN.md decision 6). Everything else receives a
 * ServerConfig, which keeps tests free to build their own without touching process.env.
 */
import os from 'node:os';
import path from 'node:path';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'json' | 'pretty';

/** auto: open while no client is registered (then on 127.0.0.1 only); on: always; off: never (warned). */
export type AuthMode = 'auto' | 'on' | 'off';

export interface ServerConfig {
  port: number;
  /** Interface to listen on; unset means every interface (but see AuthMode auto). */
  host?: string;
  /** Base path of the FHIR API, e.g. "/fhir". Always starts with "/" and never ends with one. */
  basePath: string;
  /** Public base URL used in Location headers and Bundle links; derived from the request when unset. */
  publicBaseUrl?: string;
  dataDir: string;
  mongodbUri?: string;
  mongodbDatabase: string;
  /** Longest a MongoDB query may run (maxTimeMS) before the request is answered 503. */
  mongodbMaxTimeMs: number;
  logLevel: LogLevel;
  /** JSON lines for machines (default), or pino-pretty's coloured lines for a person at a terminal. */
  logFormat: LogFormat;
  /** Port of the Prometheus /metrics listener, kept apart from the API; 0 turns it off. */
  metricsPort: number;
  /** Interface the metrics listener binds to; loopback unless a scraper elsewhere needs it. */
  metricsHost: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** sqlite `synchronous` pragma for the embedded engine: NORMAL survives a process kill, FULL a power cut. */
  embeddedSynchronous: 'NORMAL' | 'FULL';
  /** Bound of the embedded engine's cache of parsed documents, in MB of heap (EMBEDDED_CACHE_MB). */
  embeddedCacheMb: number;
  search: {
    defaultCount: number;
    maxCount: number;
  };
  /** The background re-index after a SearchParameter is defined at run time. */
  searchReindex: {
    /** Resources per transaction (SEARCH_REINDEX_BATCH). */
    batch: number;
    /** Pause between batches, leaving the CPU and the write lock to requests (SEARCH_REINDEX_PAUSE_MS). */
    pauseMs: number;
  };
  /** Most resources a conditional delete may remove in one request. */
  maxConditionalDeletes: number;
  /** Most entries accepted in one batch or transaction Bundle. */
  maxBundleEntries: number;
  /**
   * Most entries in one transaction (and one $smp-submit). A transaction is one storage transaction,
   * which MongoDB aborts after 60 s; above this, a batch is the way to send many resources.
   */
  maxTransactionEntries: number;
  /**
   * Test seam: every storage operation first yields to the event loop, as a MongoDB round trip does,
   * so that concurrency tests on the embedded engine see requests overlap. Never set in production.
   */
  simulatedRoundTrips: boolean;
  /**
   * Minutes a finished bulk export's manifest and files are kept (BULK_EXPORT_RETENTION_MINUTES): they
   * hold patient data, so they go once the client has had time to fetch them. The manifest's status
   * answer says when, in its Expires header.
   */
  bulkExportRetentionMinutes: number;
  /** What the HTTP perimeter allows (src/http): limits that protect the server from its callers. */
  perimeter: {
    /** Origins allowed to call from a browser (CORS); empty: CORS off. */
    corsOrigins: string[];
    /** Strict-Transport-Security max-age when the server is reached over TLS; 0: no HSTS header. */
    hstsMaxAge: number;
    /** Sustained requests per second per client (token bucket); 0: no limit. */
    rateLimitPerSecond: number;
    /** Requests a client may send at once above the sustained rate. */
    rateLimitBurst: number;
    /** Time allowed to receive a request's headers, and the whole request, in ms. */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    /** Most simultaneous connections; further ones are closed at once. */
    maxConnections: number;
    /** Per resource in a body: longest array, most elements, longest string (413 above). */
    maxArrayLength: number;
    maxResourceElements: number;
    maxStringLength: number;
  };
  auth: {
    mode: AuthMode;
    /** The server's token-signing private key (PEM PKCS#8 or JWK); unset: generated in dataDir on first start. */
    signingKeyFile?: string;
    /** Lifetime of the access tokens the server issues, in seconds. */
    tokenLifetimeSeconds: number;
  };
  validation: {
    /** When true, a meta.profile we do not know is a warning instead of a 422. */
    lenientUnknownProfiles: boolean;
    /** Worker threads that validate; 0 validates on the event loop. */
    workers: number;
    /** Stage 2 of the pipeline: 'compiled' (default) or 'medplum', the generic reference it is tested against (VALIDATION_STRUCTURAL_STAGE). */
    structuralStage: 'medplum' | 'compiled';
  };
  /** R4 rest-hook Subscriptions (src/subscriptions). */
  subscriptions: {
    /**
     * SUBSCRIPTION_ALLOW_PRIVATE: endpoints on loopback, private and link-local addresses, and plain
     * http, are allowed. For development and tests only: it lets a Subscription make the server call
     * its own network (server-side request forgery). Off by default: https to public addresses only.
     */
    allowPrivate: boolean;
    /** Attempts at one notification before the Subscription is set to error. */
    maxAttempts: number;
    /** Back-off after the first failed attempt, doubled after each further one up to retryMaxMs. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** Time allowed for the endpoint to answer one notification. */
    timeoutMs: number;
    /** Subscriptions notified at the same time (each sends its notifications one at a time, in order). */
    concurrency: number;
  };
  /** The MTM process: follow-up cadence, the year's CMS Part D targeting criteria (42 CFR 423.153(d)(2)). */
  mtm: {
    /** Months between the Targeted Medication Reviews a completed CMR schedules (CMS: at least quarterly). */
    tmrCadenceMonths: number;
    /** Core chronic diseases a beneficiary must have (CMS: a plan may require up to 3). */
    minChronicDiseases: number;
    /** Part D maintenance drugs a beneficiary must take (CMS: a plan may require up to 8). */
    minPartDDrugs: number;
    /** Annual Part D drug cost threshold in US dollars (2025: $1,623). */
    annualCostThreshold: number;
    /** System-level $mtm-eligibility over more patients than this needs `Prefer: respond-async`. */
    eligibilitySyncLimit: number;
  };
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`Configuration ${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`Configuration ${name} must be true or false, got "${env[name]}"`);
}

function structuralStage(env: Env): 'medplum' | 'compiled' {
  const raw = env.VALIDATION_STRUCTURAL_STAGE?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'compiled';
  if (raw === 'medplum' || raw === 'compiled') return raw;
  throw new Error(`Configuration VALIDATION_STRUCTURAL_STAGE must be medplum or compiled, got "${env.VALIDATION_STRUCTURAL_STAGE}"`);
}

function normaliseBasePath(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function tmrCadence(env: Env): number {
  const months = integer(env, 'MTM_TMR_CADENCE_MONTHS', 3, 1);
  if (months > 12) throw new Error(`Configuration MTM_TMR_CADENCE_MONTHS must be 1 to 12 (months between TMRs), got "${months}"`);
  return months;
}

/** CORS_ORIGINS: a comma-separated allow-list of exact origins (scheme://host[:port]). */
function origins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  for (const origin of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new Error(`Configuration CORS_ORIGINS must list origins like https://app.example.org, got "${origin}"`);
  }
  return list;
}

const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

export function loadConfig(env: Env = process.env): ServerConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`Configuration LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const logFormat = (env.LOG_FORMAT ?? 'json').toLowerCase();
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new Error(`Configuration LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`);
  }
  const synchronous = (env.EMBEDDED_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new Error(`Configuration EMBEDDED_SYNCHRONOUS must be NORMAL or FULL, got "${env.EMBEDDED_SYNCHRONOUS}"`);
  }
  const authMode = (env.AUTH || 'auto').toLowerCase();
  if (authMode !== 'auto' && authMode !== 'on' && authMode !== 'off') {
    throw new Error(`Configuration AUTH must be auto, on or off, got "${env.AUTH}"`);
  }
  return {
    port: integer(env, 'PORT', 8080),
    host: env.HOST || undefined,
    basePath: normaliseBasePath(env.BASE_PATH ?? '/fhir'),
    publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, '') || undefined,
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    mongodbUri: env.MONGODB_URI || undefined,
    mongodbDatabase: env.MONGODB_DATABASE ?? 'mtm',
    mongodbMaxTimeMs: integer(env, 'MONGODB_MAX_TIME_MS', 30_000, 1),
    logLevel,
    logFormat,
    metricsPort: integer(env, 'METRICS_PORT', 9464),
    metricsHost: env.METRICS_HOST || '127.0.0.1',
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 16 * 1024 * 1024, 1),
    embeddedSynchronous: synchronous,
    embeddedCacheMb: integer(env, 'EMBEDDED_CACHE_MB', 256),
    search: {
      defaultCount: integer(env, 'SEARCH_DEFAULT_COUNT', 20, 1),
      maxCount: integer(env, 'SEARCH_MAX_COUNT', 1000, 1),
    },
    searchReindex: {
      batch: integer(env, 'SEARCH_REINDEX_BATCH', 200, 1),
      pauseMs: integer(env, 'SEARCH_REINDEX_PAUSE_MS', 0),
    },
    maxConditionalDeletes: integer(env, 'MAX_CONDITIONAL_DELETES', 100, 1),
    maxBundleEntries: integer(env, 'MAX_BUNDLE_ENTRIES', 10000, 1),
    maxTransactionEntries: integer(env, 'MAX_TRANSACTION_ENTRIES', 1000, 1),
    simulatedRoundTrips: bool(env, 'STORAGE_SIMULATED_ROUND_TRIPS', false),
    bulkExportRetentionMinutes: integer(env, 'BULK_EXPORT_RETENTION_MINUTES', 24 * 60),
    perimeter: {
      corsOrigins: origins(env.CORS_ORIGINS),
      hstsMaxAge: integer(env, 'HSTS_MAX_AGE', 0),
      rateLimitPerSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 100),
      rateLimitBurst: integer(env, 'RATE_LIMIT_BURST', 200, 1),
      headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 1),
      requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 60_000, 1),
      maxConnections: integer(env, 'MAX_CONNECTIONS', 1024, 1),
      maxArrayLength: integer(env, 'MAX_ARRAY_LENGTH', 10_000, 1),
      maxResourceElements: integer(env, 'MAX_RESOURCE_ELEMENTS', 100_000, 1),
      maxStringLength: integer(env, 'MAX_STRING_LENGTH', 4 * 1024 * 1024, 1),
    },
    auth: {
      mode: authMode,
      signingKeyFile: env.AUTH_SIGNING_KEY_FILE || undefined,
      tokenLifetimeSeconds: integer(env, 'ACCESS_TOKEN_LIFETIME', 300, 1),
    },
    validation: {
      lenientUnknownProfiles: bool(env, 'VALIDATION_LENIENT_UNKNOWN_PROFILES', true),
      // One core stays with the event loop; beyond four, validation is rarely what limits a write.
      workers: integer(env, 'VALIDATION_WORKERS', Math.min(4, Math.max(1, os.availableParallelism() - 1))),
      structuralStage: structuralStage(env),
    },
    subscriptions: {
      allowPrivate: bool(env, 'SUBSCRIPTION_ALLOW_PRIVATE', false),
      maxAttempts: integer(env, 'SUBSCRIPTION_MAX_ATTEMPTS', 5, 1),
      retryBaseMs: integer(env, 'SUBSCRIPTION_RETRY_BASE_MS', 10_000, 1),
      retryMaxMs: integer(env, 'SUBSCRIPTION_RETRY_MAX_MS', 600_000, 1),
      timeoutMs: integer(env, 'SUBSCRIPTION_TIMEOUT_MS', 10_000, 1),
      concurrency: integer(env, 'SUBSCRIPTION_CONCURRENCY', 4, 1),
    },
    mtm: {
      tmrCadenceMonths: tmrCadence(env),
      minChronicDiseases: integer(env, 'MTM_MIN_CHRONIC_DISEASES', 3, 1),
      minPartDDrugs: integer(env, 'MTM_MIN_PART_D_DRUGS', 8, 1),
      annualCostThreshold: integer(env, 'MTM_ANNUAL_COST_THRESHOLD', 1623, 0),
      eligibilitySyncLimit: integer(env, 'MTM_ELIGIBILITY_SYNC_LIMIT', 1000, 1),
    },
  };
}

/**
 * A configuration for tests and tools: the defaults, with overrides, except that validation runs on
 * one worker thread (the path production takes; `VALIDATION_WORKERS=0` in the environment puts it on
 * the event loop instead) and storage operations yield to the event loop as MongoDB's round trips
 * do, so concurrent requests really interleave.
 */
export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  // No rate limit: tests send requests as fast as they can; the rate-limit tests set their own.
  const validationWorkers = process.env.VALIDATION_WORKERS ?? '1';
  return { ...loadConfig({ LOG_LEVEL: 'silent', VALIDATION_WORKERS: validationWorkers, STORAGE_SIMULATED_ROUND_TRIPS: 'true', RATE_LIMIT_PER_SECOND: '0' }), ...overrides };
}
