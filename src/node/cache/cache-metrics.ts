import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { nearestRank } from '../../core/quantile.ts';

/** X-Cache: how an answer was made. */
export type CacheResult = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE';

export type StaleReason = 'while-revalidate' | 'if-error' | 'max-stale';

/** Totals for /v1/cache/stats; the same events feed the Prometheus metrics. */
export interface CacheTotals {
  hits: number;
  misses: number;
  revalidated: number;
  stale: number;
  errors: number;
  nearHits: number;
  revalidations: number;
  staleServes: number;
  coalesced: number;
  originFetches: number;
  originErrors: number;
  /** Origin fetches refused by the address check (no connection was made). */
  refused: number;
  evictions: number;
  /** Responses too large to store (over --cache-max-object-bytes), streamed to the client uncached. */
  passThrough: number;
  replicasSent: number;
  replicasReceived: number;
}

const originBucketsSeconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The web cache's metrics. Client-facing results are counted once, by the
 * node the client asked (the entry node); origin, store and coalescing
 * figures by the node that did the work (the owner).
 */
export class CacheMetrics {
  readonly totals: CacheTotals = {
    hits: 0,
    misses: 0,
    revalidated: 0,
    stale: 0,
    errors: 0,
    nearHits: 0,
    revalidations: 0,
    staleServes: 0,
    coalesced: 0,
    originFetches: 0,
    originErrors: 0,
    refused: 0,
    evictions: 0,
    passThrough: 0,
    replicasSent: 0,
    replicasReceived: 0,
  };
  private readonly requests: Counter<'result'>;
  private readonly events: Counter<'event'>;
  private readonly originSeconds: Histogram;
  /** Label children bound once per result, not built per answer. */
  private readonly byResult: Record<
    CacheResult,
    { total: 'hits' | 'misses' | 'revalidated' | 'stale'; counter: { inc(): void } }
  >;
  /** Exact origin latencies of the last fetches, for the quantiles in /v1/cache/stats. */
  private readonly recentOriginMs: number[] = [];

  constructor(registry: Registry, store: { bytes: () => number; urls: () => number }) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'weft_cache_requests_total',
      help: 'Web cache answers to clients by X-Cache result (hit, miss, revalidated, stale) or error',
      labelNames: ['result'],
      registers,
    });
    this.byResult = {
      HIT: { total: 'hits', counter: this.requests.labels('hit') },
      MISS: { total: 'misses', counter: this.requests.labels('miss') },
      REVALIDATED: { total: 'revalidated', counter: this.requests.labels('revalidated') },
      STALE: { total: 'stale', counter: this.requests.labels('stale') },
    };
    this.events = new Counter({
      name: 'weft_cache_events_total',
      help: 'Web cache work: near_hit, revalidation, stale_serve, coalesced, origin_fetch, origin_error, origin_refused, eviction, pass_through (too large to store, streamed uncached), replica_sent, replica_received',
      labelNames: ['event'],
      registers,
    });
    this.originSeconds = new Histogram({
      name: 'weft_cache_origin_seconds',
      help: 'Origin fetch latency, redirects included',
      buckets: originBucketsSeconds,
      registers,
    });
    const totals = this.totals;
    new Gauge({
      name: 'weft_cache_hit_ratio',
      help: 'Answers served without waiting for the origin (hit + stale) over all answers, since start',
      registers,
      collect() {
        this.set(hitRatio(totals));
      },
    });
    new Gauge({
      name: 'weft_cache_stored_bytes',
      help: 'Bytes of responses in the store',
      registers,
      collect() {
        this.set(store.bytes());
      },
    });
    new Gauge({
      name: 'weft_cache_stored_urls',
      help: 'URLs with at least one stored response',
      registers,
      collect() {
        this.set(store.urls());
      },
    });
  }

  answered(result: CacheResult, near: boolean): void {
    const counted = this.byResult[result];
    this.totals[counted.total] += 1;
    counted.counter.inc();
    if (near) this.event('nearHits', 'near_hit');
  }

  failed(): void {
    this.totals.errors += 1;
    this.requests.labels('error').inc();
  }

  event(
    total: Exclude<keyof CacheTotals, 'hits' | 'misses' | 'revalidated' | 'stale' | 'errors'>,
    event: string,
    by = 1,
  ): void {
    if (by <= 0) return;
    this.totals[total] += by;
    this.events.inc({ event }, by);
  }

  origin(latencyMs: number, ok: boolean): void {
    this.event(ok ? 'originFetches' : 'originErrors', ok ? 'origin_fetch' : 'origin_error');
    this.originSeconds.observe(latencyMs / 1000);
    this.recentOriginMs.push(latencyMs);
    if (this.recentOriginMs.length > recentOriginWindow) this.recentOriginMs.shift();
  }

  /** p50 and p99 of the last fetches' latencies (undefined before the first). */
  originQuantilesMs(): { p50: number; p99: number } | undefined {
    if (this.recentOriginMs.length === 0) return undefined;
    const sorted = [...this.recentOriginMs].sort((a, b) => a - b);
    return { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99) };
  }
}

/** Origin latencies kept for the quantiles of /v1/cache/stats. */
const recentOriginWindow = 1_000;

export function hitRatio(totals: CacheTotals): number {
  const served = totals.hits + totals.stale;
  const all = served + totals.misses + totals.revalidated;
  return all === 0 ? 0 : served / all;
}
