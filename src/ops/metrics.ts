/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so that two servers in
 * one process (the tests start many) never share counters. Labels are bounded sets: interaction
 * names, known resource types, status codes. Never ids or query values.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RequestObservation {
  interaction: string;
  resourceType?: string;
  status: number;
  seconds: number;
}

/** Counts current resources per type; slow on a large store, so the metric caches it briefly. */
export type StoredResourceCounter = () => Promise<Map<string, number>>;

const STORED_COUNT_CACHE_MS = 30_000;

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'interaction' | 'type' | 'status'>;
  private readonly requestSeconds: Histogram<'interaction' | 'type'>;
  readonly validationSeconds: Histogram;
  readonly validationsInFlight: Gauge;
  readonly commitSeconds: Histogram<'outcome'>;
  private storedCounter?: StoredResourceCounter;
  private storedCache?: { at: number; counts: Map<string, number> };

  constructor() {
    // Process metrics: event-loop lag, heap, RSS, GC, handles.
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'fhir_requests_total',
      help: 'FHIR API requests by interaction, resource type and HTTP status',
      labelNames: ['interaction', 'type', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'fhir_request_duration_seconds',
      help: 'Time from request to the last byte of the response',
      labelNames: ['interaction', 'type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.validationSeconds = new Histogram({
      name: 'fhir_validation_duration_seconds',
      help: 'Time to validate one resource, queueing for a validation worker included',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.validationsInFlight = new Gauge({
      name: 'fhir_validation_queue_depth',
      help: 'Validations submitted and not yet finished',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'storage_transaction_duration_seconds',
      help: 'Time of one storage transaction, from start to durable commit (or abort)',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'fhir_resources_stored',
      help: 'Current (not deleted) resources per type',
      labelNames: ['type'],
      registers,
      async collect() {
        this.reset();
        for (const [type, count] of await metrics.storedCounts()) this.set({ type }, count);
      },
    });
  }

  countStoredWith(counter: StoredResourceCounter): void {
    this.storedCounter = counter;
  }

  observeRequest({ interaction, resourceType, status, seconds }: RequestObservation): void {
    const type = resourceType ?? '';
    this.requests.inc({ interaction, type, status: String(status) });
    this.requestSeconds.observe({ interaction, type }, seconds);
  }

  private async storedCounts(): Promise<Map<string, number>> {
    if (!this.storedCounter) return new Map();
    const now = Date.now();
    if (!this.storedCache || now - this.storedCache.at > STORED_COUNT_CACHE_MS) {
      this.storedCache = { at: now, counts: await this.storedCounter() };
    }
    return this.storedCache.counts;
  }
}
