/**
 * Drives one workload against one server: a preflight request (is the endpoint there at all, and
 * how slow is it?), then either autocannon runs (closed loop, N connections, fixed duration) or,
 * for endpoints too slow for that, a few sequential requests within a time budget, so that one
 * pathological search cannot stall the whole run.
 */
import autocannon from 'autocannon';
import type { BenchRequest, Workload } from '../workloads';

export interface Preflight {
  status: number;
  ms: number;
  /** For a searchset: entries returned (matches + includes) and Bundle.total when given. */
  entries?: number;
  total?: number;
  message?: string;
}

export interface RunStats {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
  /** CPU the server used per request during the measured run, all its threads (ms). */
  cpuMsPerRequest?: number;
}

export interface WorkloadResult {
  available: boolean;
  method: 'autocannon' | 'sequential' | 'none';
  preflight: Preflight;
  runs: RunStats[];
  /** Medians over the runs. */
  rps?: number;
  resourcesPerSecond?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  /** Median over the runs of RunStats.cpuMsPerRequest. */
  cpuMsPerRequest?: number;
  errors: number;
}

export interface MeasureOptions {
  durationSec: number;
  warmupSec: number;
  /** Above this preflight latency, sample sequentially instead of loading the server. */
  slowMs: number;
  /** Time budget for sequential sampling. */
  sampleBudgetMs: number;
  timeoutSec: number;
}

const HEADERS = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
/** Bearer tokens by base URL, for a server measured with authentication on (--auth). */
const TOKENS = new Map<string, string>();

export function authorize(base: string, token: string): void {
  TOKENS.set(base, token);
}

/** The headers every request to this server carries. */
export function headersFor(base: string): Record<string, string> {
  const token = TOKENS.get(base);
  return token ? { ...HEADERS, authorization: `Bearer ${token}` } : HEADERS;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

async function once(base: string, request: BenchRequest, timeoutMs: number): Promise<Preflight> {
  const started = performance.now();
  try {
    const res = await fetch(base + request.path, {
      method: request.method,
      headers: headersFor(base),
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    const result: Preflight = { status: res.status, ms };
    try {
      const body = JSON.parse(text) as {
        resourceType?: string;
        type?: string;
        entry?: Array<{ response?: { status?: string; outcome?: { issue?: Array<{ diagnostics?: string }> } } }>;
        total?: number;
        issue?: Array<{ diagnostics?: string; details?: { text?: string } }>;
      };
      if (body.resourceType === 'Bundle') {
        result.entries = body.entry?.length ?? 0;
        if (typeof body.total === 'number') result.total = body.total;
      }
      // A batch answers 200 whatever its entries did: one failed entry makes the workload unfit to compare (207).
      const failed = body.type === 'batch-response' ? (body.entry ?? []).filter((e) => !e.response?.status?.startsWith('2')) : [];
      if (failed.length) {
        result.status = 207;
        result.message = `${failed.length} of ${body.entry?.length} batch entries failed, e.g. ${failed[0].response?.status}: ${failed[0].response?.outcome?.issue?.[0]?.diagnostics ?? ''}`.slice(0, 300);
      }
      if (body.resourceType === 'OperationOutcome' && res.status >= 400) {
        result.message = body.issue?.map((i) => i.details?.text ?? i.diagnostics).filter(Boolean).join('; ').slice(0, 300);
      }
    } catch {
      result.message = text.slice(0, 200);
    }
    return result;
  } catch (error) {
    return { status: 0, ms: performance.now() - started, message: error instanceof Error ? error.message : String(error) };
  }
}

function stats(times: number[], ok: number, errors: number, seconds: number, statuses: Record<string, number>): RunStats {
  times.sort((a, b) => a - b);
  return { requests: ok + errors, errors, seconds, rps: ok / seconds, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), statuses };
}

async function autocannonRun(base: string, workload: Workload, durationSec: number, timeoutSec: number): Promise<RunStats> {
  const url = new URL(base);
  let cursor = 0;
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let finish!: (value: { errors: number; timeouts: number }) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<{ errors: number; timeouts: number }>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
    url: url.origin,
    connections: workload.connections,
    duration: durationSec,
    timeout: timeoutSec,
    headers: headersFor(base),
    requests: [
      {
        setupRequest: (req) => {
          const next = workload.requests[cursor++ % workload.requests.length];
          return { ...req, method: next.method, path: url.pathname.replace(/\/$/, '') + next.path, body: next.body };
        },
      },
    ],
    },
    (error, result) => (error ? fail(error as Error) : finish(result)),
  );
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    times.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (workload.expect.includes(statusCode)) ok++;
    else errors++;
  });
  const started = performance.now();
  const result = await done;
  const seconds = (performance.now() - started) / 1000;
  errors += result.errors + result.timeouts;
  if (result.timeouts) statuses.timeout = result.timeouts;
  return stats(times, ok, errors, seconds, statuses);
}

async function sequentialRun(base: string, workload: Workload, budgetMs: number, timeoutMs: number, first: Preflight): Promise<RunStats> {
  const times = [first.ms];
  const statuses: Record<string, number> = { [first.status]: 1 };
  let ok = workload.expect.includes(first.status) ? 1 : 0;
  let errors = 1 - ok;
  let elapsed = first.ms;
  for (let i = 1; elapsed + first.ms < budgetMs && i < 20; i++) {
    const r = await once(base, workload.requests[i % workload.requests.length], timeoutMs);
    times.push(r.ms);
    elapsed += r.ms;
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (workload.expect.includes(r.status)) ok++;
    else errors++;
  }
  return stats(times, ok, errors, elapsed / 1000, statuses);
}

/**
 * Waits until the server answers a cheap request quickly again: a slow workload can leave a backlog
 * of in-flight requests behind when its time is up, which must not be charged to the next one.
 */
export async function settle(base: string, request: BenchRequest, budgetMs = 120_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < budgetMs) {
    const r = await once(base, request, budgetMs);
    if (r.ms < 25) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return performance.now() - started;
}

/**
 * Preflight: decides whether, and how, the workload can be measured on this server. A first request
 * may pay for lazy initialisation, or land on a pause (a checkpoint or a major GC after the previous
 * write workload), so up to two more attempts may override a slow first one. Writes are repeated
 * too: every write workload creates new resources, so a repeated request conflicts with nothing.
 */
export async function preflight(base: string, workload: Workload, options: MeasureOptions): Promise<Preflight> {
  let best = await once(base, workload.requests[0], options.timeoutSec * 1000);
  for (let attempt = 1; attempt < 3 && best.ms > options.slowMs && workload.expect.includes(best.status); attempt++) {
    const again = await once(base, workload.requests[0], options.timeoutSec * 1000);
    if (again.ms < best.ms && again.status === best.status) best = again;
  }
  return best;
}

/**
 * One measured repetition (after the preflight said the endpoint works). `cpuMs` reads the server's
 * CPU time: what it used per request holds still on a shared machine, where throughput does not.
 */
export async function measureRun(
  base: string,
  workload: Workload,
  first: Preflight,
  options: MeasureOptions,
  warm: boolean,
  cpuMs?: () => number,
): Promise<{ method: WorkloadResult['method']; run: RunStats }> {
  const perRequest = async (measured: () => Promise<RunStats>): Promise<RunStats> => {
    const before = cpuMs?.();
    const run = await measured();
    if (before !== undefined && cpuMs && run.requests > 0) run.cpuMsPerRequest = (cpuMs() - before) / run.requests;
    return run;
  };
  // A sequential sample may be the preflight's request alone, answered before the CPU was read: no figure.
  if (first.ms > options.slowMs) {
    return { method: 'sequential', run: await sequentialRun(base, workload, options.sampleBudgetMs, options.timeoutSec * 1000, first) };
  }
  if (warm && options.warmupSec > 0) await autocannonRun(base, workload, options.warmupSec, options.timeoutSec);
  return { method: 'autocannon', run: await perRequest(() => autocannonRun(base, workload, options.durationSec, options.timeoutSec)) };
}

export function summarise(first: Preflight, method: WorkloadResult['method'], runs: RunStats[], workload: Workload): WorkloadResult {
  const available = workload.expect.includes(first.status);
  if (!available) return { available, method: 'none', preflight: first, runs: [], errors: 1 };
  const rps = median(runs.map((r) => r.rps));
  return {
    available,
    method,
    preflight: first,
    runs,
    rps,
    resourcesPerSecond: workload.resourcesPerRequest ? rps * workload.resourcesPerRequest : undefined,
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    p99: median(runs.map((r) => r.p99)),
    cpuMsPerRequest: runs.every((r) => r.cpuMsPerRequest !== undefined) ? median(runs.map((r) => r.cpuMsPerRequest as number)) : undefined,
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}
