import { normalizeUrl } from '../../cache/url-key.ts';
import type { VariantStore } from '../../cache/variant-store.ts';
import { describeError, WeftError } from '../../core/errors.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';
import type { CacheMetrics } from './cache-metrics.ts';
import type { CacheDht } from './cache-routing.ts';
import {
  cacheMethods,
  decodePurgeAnswer,
  decodePurgeRequest,
  decodeReplica,
  encodeJson,
  encodeReplica,
  type PurgeAnswer,
} from './cache-wire.ts';
import type { NearCache } from './near-cache.ts';
import type { CacheRequest } from './owner-cache.ts';
import { storedResponse, type StoredResponse } from './stored-response.ts';

/** URLs whose near-cache holders an owner remembers (for purges); the oldest is forgotten first. */
export const nearHolderUrlsMax = 10_000;
/** Successors a purge reaches besides the owner: the hot copy lives on the first; the second covers a ring that just moved. */
const purgedSuccessors = 2;
const peerTimeoutMs = 2_000;

export interface ReplicationDeps {
  readonly transport: PeerTransport;
  readonly dht: CacheDht;
  readonly store: VariantStore<StoredResponse>;
  readonly near: NearCache;
  readonly metrics: CacheMetrics;
  readonly log: Logger;
  readonly clock: () => number;
}

/**
 * Copies beyond the owner's store: hot URLs are kept on the owner's
 * successor (which takes over the key when the owner dies), entry nodes
 * near-cache them; a purge at the owner reaches all of them.
 */
export class CacheReplication {
  /** The successor each stored response was last copied to. */
  private readonly copiedTo = new WeakMap<StoredResponse, string>();
  private readonly nearHolders = new Map<string, Set<string>>();
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly deps: ReplicationDeps) {
    deps.transport.handle(cacheMethods.replica, (payload) => {
      const replica = decodeReplica(payload);
      const { url, freshness, ...init } = replica;
      deps.store.put(url, storedResponse(init, freshness));
      deps.metrics.event('replicasReceived', 'replica_received');
      return new Uint8Array(0);
    });
    deps.transport.handle(cacheMethods.purge, async (payload) => {
      const request = decodePurgeRequest(payload);
      const checked = normalizeUrl(request.url);
      if (!checked.ok) throw new WeftError('URL_INVALID', checked.reason);
      const href = checked.url.href;
      const answer = request.local ? this.purgeHere(href) : await this.purgeEverywhere(href);
      return encodeJson(answer);
    });
  }

  /** After the owner answered: remember a near-cache holder, and copy a hot response to the successor. */
  afterServe(request: CacheRequest, hot: boolean, nearHolder: string | undefined): void {
    const href = request.url.href;
    if (nearHolder !== undefined) this.rememberHolder(href, nearHolder);
    if (!hot) return;
    const stored = this.deps.store.find(href, request.headers);
    const successor = this.deps.dht.successorAddresses()[0];
    if (stored === undefined || successor === undefined || this.copiedTo.get(stored) === successor) return;
    this.copiedTo.set(stored, successor);
    this.track(
      this.deps.transport
        .request(successor, cacheMethods.replica, encodeReplica(href, stored), { timeoutMs: peerTimeoutMs })
        .then(() => this.deps.metrics.event('replicasSent', 'replica_sent')),
      `copy ${href} to ${successor}`,
    );
  }

  /** At the owner: drop the URL here, on the successors and in the near-caches that asked for it. */
  async purgeEverywhere(href: string): Promise<PurgeAnswer> {
    const here = this.purgeHere(href);
    const holders = this.nearHolders.get(href) ?? new Set<string>();
    this.nearHolders.delete(href);
    const targets = new Set([...this.deps.dht.successorAddresses().slice(0, purgedSuccessors), ...holders]);
    targets.delete(this.deps.transport.address);
    const answers = await Promise.allSettled(
      [...targets].map(async (address) =>
        decodePurgeAnswer(
          await this.deps.transport.request(address, cacheMethods.purge, encodeJson({ url: href, local: true }), {
            timeoutMs: peerTimeoutMs,
          }),
        ),
      ),
    );
    let { removed, nodes } = here;
    for (const answer of answers) {
      if (answer.status === 'fulfilled') {
        removed += answer.value.removed;
        nodes += 1;
      } else this.deps.log.warn({ url: href, err: answer.reason }, 'a node did not confirm a purge');
    }
    return { url: href, removed, nodes };
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  private purgeHere(href: string): PurgeAnswer {
    return { url: href, removed: this.deps.store.delete(href) + this.deps.near.delete(href), nodes: 1 };
  }

  private rememberHolder(href: string, address: string): void {
    let holders = this.nearHolders.get(href);
    if (holders === undefined) {
      if (this.nearHolders.size >= nearHolderUrlsMax) {
        const oldest = this.nearHolders.keys().next().value;
        if (oldest !== undefined) this.nearHolders.delete(oldest);
      }
      holders = new Set();
      this.nearHolders.set(href, holders);
    }
    holders.add(address);
  }

  private track(work: Promise<void>, what: string): void {
    const done = work.catch((error: unknown) => this.deps.log.debug({ err: describeError(error) }, `${what} failed`));
    this.background.add(done);
    void done.finally(() => this.background.delete(done));
  }
}
