/**
 * Readiness: may a load balancer send this process traffic? Each part of the server that can be
 * not-yet-ready (storage, validation workers, a re-index) registers a check; /readyz runs them all.
 * Answers name the check and a short reason, never data.
 */
export interface ReadinessCheckResult {
  name: string;
  ready: boolean;
  /** Why it is not ready (or a short note when it is). */
  detail?: string;
}

/** Resolves to undefined when ready, or to the reason it is not. */
export type ReadinessCheck = () => Promise<string | undefined>;

const CHECK_TIMEOUT_MS = 2000;

export class Readiness {
  private readonly checks: Array<{ name: string; check: ReadinessCheck }> = [];

  add(name: string, check: ReadinessCheck): this {
    this.checks.push({ name, check });
    return this;
  }

  async evaluate(): Promise<{ ready: boolean; checks: ReadinessCheckResult[] }> {
    const checks = await Promise.all(this.checks.map(({ name, check }) => runCheck(name, check)));
    return { ready: checks.every((c) => c.ready), checks };
  }
}

async function runCheck(name: string, check: ReadinessCheck): Promise<ReadinessCheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    const problem = await Promise.race([check(), timeout]);
    return problem === undefined ? { name, ready: true } : { name, ready: false, detail: problem };
  } catch (error) {
    return { name, ready: false, detail: error instanceof Error ? error.message : 'check failed' };
  } finally {
    clearTimeout(timer);
  }
}

/** Tracks whether a start-up promise (say, the validation workers warming) has settled well. */
export function settledCheck(promise: Promise<unknown>, what: string): ReadinessCheck {
  let state: 'pending' | 'ok' | 'failed' = 'pending';
  promise.then(
    () => (state = 'ok'),
    () => (state = 'failed'),
  );
  return async () => (state === 'ok' ? undefined : state === 'pending' ? `${what} still starting` : `${what} failed to start`);
}
