import { setTimeout as delay } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { parseAllowlist } from '../../cache/address-policy.ts';
import { defaultFreshnessOptions, requestDirectives, type HeaderMap } from '../../cache/freshness.ts';
import { HotKeys } from '../../cache/hot-keys.ts';
import { normalizeUrl, type CacheUrl } from '../../cache/url-key.ts';
import { VariantStore } from '../../cache/variant-store.ts';
import { assert } from '../../core/assert.ts';
import { isWeftError, WeftError } from '../../core/errors.ts';
import type { Id } from '../../koorde/id-space.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';
import type { DhtConfig } from '../dht/dht-config.ts';
import type { CacheConfig } from './cache-config.ts';
import { CacheMetrics, hitRatio, type CacheTotals } from './cache-metrics.ts';
import { OwnerRouting, type CacheDht } from './cache-routing.ts';
import {
  cacheMethods,
  decodeAnswer,
  decodeGetRequest,
  decodePurgeAnswer,
  encodeAnswer,
  encodeJson,
  type GetRequest,
  type PurgeAnswer,
} from './cache-wire.ts';
import { CacheReplication } from './cache-replication.ts';
import { NearCache } from './near-cache.ts';
import { OriginClient, systemResolver, type Resolver } from './origin-client.ts';
import { OwnerCache, type CacheAnswer, type CacheRequest } from './owner-cache.ts';
import type { StoredResponse } from './stored-response.ts';
import { BodyStreams } from './body-streams.ts';
import { StreamCalls } from './stream-calls.ts';

export interface WebCacheDeps {
  readonly nodeId: string;
  readonly transport: PeerTransport;
  readonly dht: CacheDht;
  /** The cache's settings, and the DHT's round, which sets how long to wait for a re-forming ring. */
  readonly config: CacheConfig & Pick<DhtConfig, 'dhtStabilizeMs'>;
  readonly log: Logger;
  readonly registry: Registry;
  readonly resolver?: Resolver;
  readonly clock?: () => number;
}

export interface CacheStats extends CacheTotals {
  readonly node: string;
  readonly hitRatio: number;
  readonly storedBytes: number;
  readonly storedUrls: number;
  readonly maxBytes: number;
  readonly nearBytes: number;
  readonly originLatencyMs: { readonly p50: number; readonly p99: number } | null;
}

/** Variants kept per URL (Vary). */
export const maxVariantsPerUrl = 8;
/** Raw `url` parameters remembered with their normalized form and ring id, so a hit parses and hashes nothing. */
export const urlMemoMax = 10_000;
/** Tracked URLs per second for hot-key detection, on each role. */
export const hotTrackedMax = 10_000;
/** An answer, and whether this node's near-cache gave it. */
interface Looked {
  readonly answer: CacheAnswer;
  readonly near: boolean;
}

/** Time a forwarded request may take beyond the owner's origin deadline. */
const forwardSlackMs = 2_000;
/** DHT rounds an entry node waits for a re-forming ring to name an owner before it answers as a stand-in. */
const noRouteRounds = 2;

/**
 * The web cache role of a node. As an entry node it takes client requests,
 * serves hot URLs from its near-cache and otherwise sends them to the URL's
 * owner over the peer transport; as an owner it serves from its store or the
 * origin (OwnerCache), keeps hot URLs on its successor, and purges.
 */
export class WebCache {
  readonly metrics: CacheMetrics;
  private readonly store: VariantStore<StoredResponse>;
  private readonly near: NearCache;
  private readonly owner: OwnerCache;
  private readonly origin: OriginClient;
  private readonly routing: OwnerRouting;
  private readonly replication: CacheReplication;
  private readonly entryHot: HotKeys<string>;
  private readonly memo = new Map<string, { url: CacheUrl; id: Id }>();
  private readonly stopping = new AbortController();
  private readonly clock: () => number;
  private readonly forwardTimeoutMs: number;
  private readonly calls: StreamCalls;
  private readonly bodies: BodyStreams;

  constructor(private readonly deps: WebCacheDeps) {
    const { config, transport } = deps;
    this.clock = deps.clock ?? Date.now;
    this.store = new VariantStore({
      maxBytes: config.cacheMaxBytes,
      maxObjectBytes: config.cacheMaxObjectBytes,
      maxVariantsPerUrl,
    });
    this.near = new NearCache(config, this.clock);
    this.metrics = new CacheMetrics(deps.registry, { bytes: () => this.store.bytes, urls: () => this.store.urls });
    const allow = parseAllowlist(config.cacheAllow);
    assert(!('error' in allow), 'the allowlist was checked with the config');
    this.origin = new OriginClient({
      resolver: deps.resolver ?? systemResolver,
      allow,
      limits: {
        timeoutMs: config.cacheOriginTimeoutMs,
        maxRedirects: config.cacheMaxRedirects,
        maxBodyBytes: config.cacheMaxObjectBytes,
      },
      clock: this.clock,
    });
    this.owner = new OwnerCache({
      nodeId: deps.nodeId,
      store: this.store,
      origin: this.origin,
      clock: this.clock,
      metrics: this.metrics,
      log: deps.log,
      stop: this.stopping.signal,
      freshness: defaultFreshnessOptions,
    });
    this.routing = new OwnerRouting(deps.dht, transport.address, config.cacheRouteTtlMs, this.clock);
    this.replication = new CacheReplication({
      ...deps,
      store: this.store,
      near: this.near,
      metrics: this.metrics,
      clock: this.clock,
    });
    this.entryHot = new HotKeys({ thresholdPerSecond: config.cacheHotRps, maxTracked: hotTrackedMax });
    this.forwardTimeoutMs = config.cacheOriginTimeoutMs + forwardSlackMs;
    const serve = (payload: Uint8Array, from: string): Promise<Uint8Array> =>
      this.serveForPeer(decodeGetRequest(payload), from);
    transport.handle(cacheMethods.get, (payload, context) => serve(payload, context.from));
    this.calls = new StreamCalls(transport, cacheMethods.get, serve);
    this.bodies = new BodyStreams(transport, cacheMethods.body, this.forwardTimeoutMs);
  }

  /**
   * Answer a client's GET (or HEAD) of `rawUrl`, from wherever the cluster
   * has it. A hit in this node's store or near-cache is answered
   * synchronously: the hit path allocates no promise.
   */
  get(rawUrl: string, headers: HeaderMap): CacheAnswer | Promise<CacheAnswer> {
    let looked: Looked | Promise<Looked>;
    try {
      looked = this.lookUp(rawUrl, headers);
    } catch (error) {
      this.metrics.failed();
      throw error;
    }
    if (!(looked instanceof Promise)) return this.answered(looked);
    return looked.then(
      (done) => this.answered(done),
      (error: unknown) => {
        this.metrics.failed();
        throw error;
      },
    );
  }

  /** Remove `rawUrl` from every node that holds it. */
  async purge(rawUrl: string): Promise<PurgeAnswer> {
    const { url, id } = this.parse(rawUrl);
    const nearRemoved = this.near.delete(url.href);
    const answer = await this.routing.withOwner(
      id,
      () => this.replication.purgeEverywhere(url.href),
      async (address) =>
        decodePurgeAnswer(
          await this.deps.transport.request(address, cacheMethods.purge, encodeJson({ url: url.href, local: false }), {
            timeoutMs: this.forwardTimeoutMs,
          }),
        ),
    );
    return { ...answer, removed: answer.removed + nearRemoved };
  }

  stats(): CacheStats {
    return {
      node: this.deps.nodeId,
      ...this.metrics.totals,
      hitRatio: hitRatio(this.metrics.totals),
      storedBytes: this.store.bytes,
      storedUrls: this.store.urls,
      maxBytes: this.store.limits.maxBytes,
      nearBytes: this.near.bytes,
      originLatencyMs: this.metrics.originQuantilesMs() ?? null,
    };
  }

  /** Wait for background work: revalidations (stale-while-revalidate) and copies to the successor. */
  async settle(): Promise<void> {
    await Promise.allSettled([this.owner.settle(), this.replication.settle()]);
  }

  /** Abort origin fetches, wait for background work, close origin connections. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.calls.close();
    this.bodies.close();
    await this.settle();
    this.origin.close();
  }

  private answered({ answer, near }: Looked): CacheAnswer {
    this.metrics.answered(answer.result, near);
    return answer;
  }

  private lookUp(rawUrl: string, headers: HeaderMap): Looked | Promise<Looked> {
    const { url, id } = this.parse(rawUrl);
    const hot = this.entryHot.record(url.href, this.clock());
    const request: CacheRequest = { url, headers };
    if (this.deps.dht.owns(id)) {
      const answer = this.serveAsOwner(request, hot, undefined);
      return answer instanceof Promise ? answer.then((a) => ({ answer: a, near: false })) : { answer, near: false };
    }
    const plain = hot && requestDirectives(headers).size === 0;
    if (plain) {
      const kept = this.near.find(url.href, headers, this.deps.nodeId);
      if (kept !== undefined) return { answer: kept, near: true };
    }
    return this.viaOwner(request, id, hot, plain);
  }

  private async viaOwner(request: CacheRequest, id: Id, hot: boolean, nearCached: boolean): Promise<Looked> {
    const { url, headers } = request;
    const local = (): Promise<CacheAnswer> => Promise.resolve(this.serveAsOwner(request, hot, undefined));
    let answer: CacheAnswer | undefined;
    for (let round = 0; answer === undefined; round += 1) {
      try {
        answer = await this.routing.withOwner(id, local, (address, standIn) =>
          this.forward(address, { url: url.href, headers, hot, standIn }),
        );
      } catch (error) {
        // While the ring re-forms after a loss, a lookup can find no owner. Wait for the DHT's
        // rounds to repair it (the owner, or the successor holding the hot copies, then answers,
        // and single flight stays cluster-wide); past that, answer as a stand-in (store or
        // origin) rather than fail, single flight then being per node.
        if (!isWeftError(error, 'NO_ROUTE')) throw error;
        if (round < noRouteRounds) {
          await this.pause(this.deps.config.dhtStabilizeMs);
          continue;
        }
        this.deps.log.debug({ url: url.href, err: error.message }, 'no owner found; answering as a stand-in');
        answer = await local();
      }
    }
    if (nearCached && answer.node !== this.deps.nodeId && answer.stream === undefined)
      this.near.put(url.href, headers, answer);
    return { answer, near: false };
  }

  /** Wait `ms`, or fail with ABORTED when the node stops. */
  private async pause(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.stopping.signal });
    } catch {
      throw new WeftError('ABORTED', 'the node is stopping');
    }
  }

  /** Ask the owner over the message stream; a full queue falls back to a unary call. */
  private async forward(address: string, request: GetRequest): Promise<CacheAnswer> {
    const payload = encodeJson(request);
    let encoded: Uint8Array | undefined;
    try {
      encoded = await this.calls.call(address, payload, this.forwardTimeoutMs);
    } catch (error) {
      if (!isWeftError(error, 'QUEUE_FULL') && !isWeftError(error, 'OVERLOADED')) throw error;
    }
    encoded ??= await this.deps.transport.request(address, cacheMethods.get, payload, {
      timeoutMs: this.forwardTimeoutMs,
    });
    const { bodyStream, ...answer } = decodeAnswer(encoded);
    return bodyStream === undefined ? answer : { ...answer, stream: this.bodies.receive(address, bodyStream) };
  }

  private async serveForPeer(request: GetRequest, from: string): Promise<Uint8Array> {
    const { url, id } = this.parse(request.url);
    if (!request.standIn && !this.deps.dht.owns(id)) {
      throw new WeftError('NOT_OWNER', `${url.href} belongs to another node; look it up again`);
    }
    const answer = await this.serveAsOwner(
      { url, headers: request.headers },
      request.hot,
      request.hot ? from : undefined,
    );
    if (answer.stream === undefined) return encodeAnswer(answer);
    return encodeAnswer(answer, this.bodies.send(from, answer.stream));
  }

  private serveAsOwner(
    request: CacheRequest,
    hot: boolean,
    nearHolder: string | undefined,
  ): CacheAnswer | Promise<CacheAnswer> {
    const answer = this.owner.serve(request);
    if (!(answer instanceof Promise)) {
      this.replication.afterServe(request, hot, nearHolder);
      return answer;
    }
    return answer.then((done) => {
      this.replication.afterServe(request, hot, nearHolder);
      return done;
    });
  }

  private parse(rawUrl: string): { url: CacheUrl; id: Id } {
    const known = this.memo.get(rawUrl);
    if (known !== undefined) return known;
    const checked = normalizeUrl(rawUrl);
    if (!checked.ok) throw new WeftError('URL_INVALID', checked.reason);
    const parsed = { url: checked.url, id: this.deps.dht.idOf(checked.url.href) };
    // Bounded by clearing: a burst of distinct URLs costs a re-parse, never memory.
    if (this.memo.size >= urlMemoMax) this.memo.clear();
    this.memo.set(rawUrl, parsed);
    return parsed;
  }
}
