import type { Readable } from 'node:stream';
import { validatorsOf, notModifiedMatches, updatedBy304 } from '../../cache/conditional.ts';
import {
  currentAgeSeconds,
  remainingFreshMs,
  requestDirectives,
  reuseOf,
  storability,
  usableOnError,
  type FreshnessOptions,
  type HeaderMap,
} from '../../cache/freshness.ts';
import type { CacheUrl } from '../../cache/url-key.ts';
import { varyFields, varyKey } from '../../cache/vary.ts';
import type { VariantStore } from '../../cache/variant-store.ts';
import { isWeftError, WeftError } from '../../core/errors.ts';
import type { Logger } from '../logger.ts';
import type { CacheMetrics, CacheResult, StaleReason } from './cache-metrics.ts';
import type { OriginClient } from './origin-client.ts';
import { SingleFlight } from './single-flight.ts';
import { receivedResponse, type StoredResponse } from './stored-response.ts';

export interface CacheRequest {
  readonly url: CacheUrl;
  /** The client's request fields the cache looks at (see forwardedFields), lower-case. */
  readonly headers: HeaderMap;
}

/** What the cache answers, before the HTTP layer adds Age, X-Cache and X-Cache-Node. */
export interface CacheAnswer {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Buffer;
  readonly ageSeconds: number;
  readonly result: CacheResult;
  /** Id of the node that answered from its store or fetched the origin. */
  readonly node: string;
  /** How much longer the answer is fresh; 0 when it must not be reused without asking the owner. */
  readonly freshMs: number;
  /**
   * A body too large to store (over --cache-max-object-bytes), passed
   * through from the origin as it arrives; `body` is then empty. Whoever
   * takes the answer must read it to the end or destroy it.
   */
  readonly stream?: Readable;
}

/** Request fields passed to the origin: content negotiation only. Cookies and credentials never are (a shared cache). */
export const forwardedFields = ['accept', 'accept-encoding', 'accept-language', 'user-agent'] as const;

/** Origin answers that let stale-if-error stand in (RFC 5861 §4). */
const errorStatuses = new Set([500, 502, 503, 504]);

interface Fetched {
  readonly response: StoredResponse;
  /** Stored, so it may be shared with the requests that waited on the flight. */
  readonly stored: boolean;
  readonly result: 'MISS' | 'REVALIDATED';
  /** The origin failed with a 5xx while a stored response was being revalidated. */
  readonly originError: boolean;
  /** The body, too large to store, still coming from the origin (never stored, so never shared). */
  readonly stream?: Readable | undefined;
}

export interface OwnerDeps {
  readonly nodeId: string;
  readonly store: VariantStore<StoredResponse>;
  readonly origin: OriginClient;
  readonly clock: () => number;
  readonly metrics: CacheMetrics;
  readonly log: Logger;
  readonly stop: AbortSignal;
  readonly freshness: FreshnessOptions;
}

/**
 * The owner's side of the web cache: answer from the store when RFC 9111
 * allows, otherwise fetch or revalidate through one flight per URL (and
 * Vary key), so concurrent misses make one origin request.
 */
export class OwnerCache {
  private readonly flights = new SingleFlight<Fetched>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly deps: OwnerDeps) {}

  /**
   * Answer a request. A stored response that may be used without asking the
   * origin is answered synchronously (no promise on the hit path); the
   * rest waits on the origin.
   */
  serve(request: CacheRequest): CacheAnswer | Promise<CacheAnswer> {
    const { store, clock } = this.deps;
    const directives = requestDirectives(request.headers);
    const stored = store.find(request.url.href, request.headers);
    if (stored !== undefined) {
      const now = clock();
      switch (reuseOf(stored.freshness, directives, now)) {
        case 'fresh':
          return this.answer(stored, 'HIT', now);
        case 'stale':
          return this.stale(stored, 'max-stale', now);
        case 'stale-while-revalidate':
          this.revalidateInBackground(request, stored);
          return this.stale(stored, 'while-revalidate', now);
        case 'validate':
          return this.validate(request, stored);
      }
    }
    if (directives.has('only-if-cached')) {
      return Promise.reject(
        new WeftError('NOT_CACHED', `${request.url.href} is not in the cache and the request said only-if-cached`),
      );
    }
    return this.miss(request);
  }

  /** Wait for background revalidations (tests, and a graceful stop). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  private async miss(request: CacheRequest): Promise<CacheAnswer> {
    const fields = this.deps.store.varyFieldsOf(request.url.href) ?? [];
    const flight = this.flights.run(this.flightKey(request, fields), () => this.fetch(request, undefined));
    if (flight.joined) this.deps.metrics.event('coalesced', 'coalesced');
    const fetched = await flight.result;
    const mine = !flight.joined || this.shareable(fetched, request);
    const own = mine ? fetched : await this.fetch(request, undefined);
    return this.answer(own.response, own.result, this.deps.clock(), own.stored, own.stream);
  }

  private async validate(request: CacheRequest, stored: StoredResponse): Promise<CacheAnswer> {
    const flight = this.flights.run(this.flightKey(request, stored.varyFields), () => this.fetch(request, stored));
    if (flight.joined) this.deps.metrics.event('coalesced', 'coalesced');
    try {
      const fetched = await flight.result;
      const now = this.deps.clock();
      if (fetched.originError && usableOnError(stored.freshness, now)) {
        if (!flight.joined) fetched.stream?.destroy();
        return this.stale(stored, 'if-error', now);
      }
      const own = !flight.joined || this.shareable(fetched, request) ? fetched : await this.fetch(request, stored);
      return this.answer(own.response, own.result, now, own.stored, own.stream);
    } catch (error) {
      const now = this.deps.clock();
      if (originFailure(error) && usableOnError(stored.freshness, now)) return this.stale(stored, 'if-error', now);
      throw error;
    }
  }

  private revalidateInBackground(request: CacheRequest, stored: StoredResponse): void {
    const flight = this.flights.run(this.flightKey(request, stored.varyFields), () => this.fetch(request, stored));
    if (flight.joined) return;
    const done = flight.result.then(
      // A body too large to store is of no use to a background revalidation.
      (fetched) => fetched.stream?.destroy(),
      (error: unknown) => this.deps.log.debug({ url: request.url.href, err: error }, 'background revalidation failed'),
    );
    this.background.add(done);
    void done.finally(() => this.background.delete(done));
  }

  /** Fetch (or, given `stored`, revalidate) and update the store. */
  private async fetch(request: CacheRequest, stored: StoredResponse | undefined): Promise<Fetched> {
    const { origin, store, metrics, clock, stop } = this.deps;
    const headers: Record<string, string> = {};
    for (const field of forwardedFields) {
      const value = request.headers[field];
      if (value !== undefined) headers[field] = value;
    }
    if (stored !== undefined) {
      Object.assign(headers, validatorsOf(stored.headers));
      metrics.event('revalidations', 'revalidation');
    }
    const started = clock();
    let response;
    try {
      response = await origin.fetch(request.url, headers, stop);
      metrics.origin(clock() - started, true);
    } catch (error) {
      if (isWeftError(error, 'ORIGIN_REFUSED')) metrics.event('refused', 'origin_refused');
      else metrics.origin(clock() - started, false);
      throw error;
    }
    const href = request.url.href;
    if (stored !== undefined && response.status === 304 && notModifiedMatches(stored.headers, response.headers)) {
      const refreshed = receivedResponse(
        { ...stored, headers: updatedBy304(stored.headers, response.headers) },
        response,
        this.deps.freshness,
      );
      return {
        response: refreshed,
        stored: store.replace(href, stored, refreshed),
        result: 'REVALIDATED',
        originError: false,
      };
    }
    if (stored !== undefined && response.status === 304) {
      // A 304 that does not match the stored response (§4.3.4): ask again without validators.
      return this.fetch(request, undefined);
    }
    const fields = varyFields(response.headers);
    const received = receivedResponse(
      {
        status: response.status,
        headers: response.headers,
        body: response.body,
        varyFields: fields,
        varyKey: varyKey(fields, request.headers),
      },
      response,
      this.deps.freshness,
    );
    if (stored !== undefined && errorStatuses.has(response.status)) {
      return { response: received, stored: false, result: 'MISS', originError: true, stream: response.stream };
    }
    if (response.stream !== undefined) {
      // Too large to store: passed through to this one client, and any stored variant is dropped.
      metrics.event('passThrough', 'pass_through');
      if (stored !== undefined) store.delete(href);
      return { response: received, stored: false, result: 'MISS', originError: false, stream: response.stream };
    }
    const verdict = storability(
      received.status,
      received.headers,
      requestDirectives(request.headers),
      received.freshness,
    );
    const before = store.evictions;
    const kept = verdict.storable && !response.temporaryRedirect && store.put(href, received);
    metrics.event('evictions', 'eviction', store.evictions - before);
    if (!kept && stored !== undefined) store.delete(href);
    return { response: received, stored: kept, result: 'MISS', originError: false };
  }

  /** May a request that joined a flight take its result? Only a stored response whose Vary matches it. */
  private shareable(fetched: Fetched, request: CacheRequest): boolean {
    const { response } = fetched;
    return fetched.stored && varyKey(response.varyFields, request.headers) === response.varyKey;
  }

  private flightKey(request: CacheRequest, fields: readonly string[]): string {
    return `${request.url.href}\n${varyKey(fields, request.headers)}`;
  }

  private stale(stored: StoredResponse, reason: StaleReason, now: number): CacheAnswer {
    this.deps.metrics.event('staleServes', `stale_${reason.replace(/-/g, '_')}`);
    return this.answer(stored, 'STALE', now, false);
  }

  private answer(
    response: StoredResponse,
    result: CacheResult,
    now: number,
    reusable = true,
    stream?: Readable,
  ): CacheAnswer {
    if (stream !== undefined) {
      const length = response.headers['content-length'];
      const headers = length === undefined ? response.served : { ...response.served, 'content-length': length };
      return { ...this.answer(response, result, now, false), headers, stream };
    }
    return {
      status: response.status,
      headers: response.served,
      body: response.body,
      ageSeconds: Math.floor(currentAgeSeconds(response.freshness, now)),
      result,
      node: this.deps.nodeId,
      freshMs: reusable ? remainingFreshMs(response.freshness, now) : 0,
    };
  }
}

/** The origin could not be asked or did not answer: what stale-if-error covers. */
function originFailure(error: unknown): boolean {
  return isWeftError(error) && ['ORIGIN_UNREACHABLE', 'ORIGIN_TIMEOUT'].includes(error.code);
}
