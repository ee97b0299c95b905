/**
 * A per-client rate limit: one token bucket per client (the authenticated client id, or the network
 * address of an anonymous caller), refilled at `perSecond` up to `burst`. Above it, 429 with
 * Retry-After and an OperationOutcome. In memory: each server process limits what it serves.
 */
import { FhirError, issue } from '../fhir/outcome';

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill, in ms. */
  at: number;
}

/** Beyond this many buckets, those full again (idle clients) are dropped. */
const MAX_BUCKETS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Takes one request from the client's bucket; throws a 429 FhirError when it is empty. */
  take(client: string): void {
    if (this.perSecond <= 0) return;
    const now = this.clock();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.dropIdle(now);
      this.buckets.set(client, (bucket = { tokens: this.burst, at: now }));
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
    throw new FhirError(
      429,
      [issue('error', 'throttled', `Too many requests from this client: at most ${this.perSecond} per second (bursts of ${this.burst}); retry after ${retryAfter} s`)],
      { 'Retry-After': String(retryAfter) },
    );
  }

  private dropIdle(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(client);
    }
    // Still full of active clients: forget the oldest rather than grow without bound.
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
