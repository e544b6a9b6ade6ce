import type { HeaderMap } from '../../cache/freshness.ts';
import { varyFields, varyKey } from '../../cache/vary.ts';
import { VariantStore, type Variant } from '../../cache/variant-store.ts';
import type { CacheConfig } from './cache-config.ts';
import type { CacheAnswer } from './owner-cache.ts';

interface NearEntry extends Variant {
  readonly answer: CacheAnswer;
  readonly receivedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * The entry node's near-cache: owners' answers for hot URLs, kept for a
 * short time (--cache-near-ttl-ms, never past the answer's freshness), so
 * a hot URL entered through any node costs no peer round trip. A purge
 * reaches it through the owner, which remembers who asked for a hot URL.
 */
export class NearCache {
  private readonly store: VariantStore<NearEntry> | undefined;

  constructor(
    private readonly config: CacheConfig,
    private readonly clock: () => number,
  ) {
    this.store =
      config.cacheNearTtlMs === 0
        ? undefined
        : new VariantStore({
            maxBytes: config.cacheNearMaxBytes,
            maxObjectBytes: config.cacheMaxObjectBytes,
            maxVariantsPerUrl: 1,
          });
  }

  get bytes(): number {
    return this.store?.bytes ?? 0;
  }

  /** A kept answer, aged to now and marked as this node's hit, or undefined. */
  find(href: string, request: HeaderMap, nodeId: string): CacheAnswer | undefined {
    const entry = this.store?.find(href, request);
    if (entry === undefined) return undefined;
    const now = this.clock();
    if (now >= entry.expiresAtMs) return undefined;
    const elapsedMs = now - entry.receivedAtMs;
    return {
      ...entry.answer,
      ageSeconds: entry.answer.ageSeconds + Math.floor(elapsedMs / 1000),
      result: 'HIT',
      node: nodeId,
      freshMs: entry.expiresAtMs - now,
    };
  }

  put(href: string, request: HeaderMap, answer: CacheAnswer): void {
    if (this.store === undefined || answer.freshMs <= 0) return;
    const now = this.clock();
    const fields = varyFields(answer.headers);
    let headerBytes = 0;
    for (const [name, value] of Object.entries(answer.headers)) headerBytes += name.length + value.length + 4;
    this.store.put(href, {
      answer,
      varyFields: fields,
      varyKey: varyKey(fields, request),
      bytes: answer.body.length + headerBytes,
      receivedAtMs: now,
      expiresAtMs: now + Math.min(this.config.cacheNearTtlMs, answer.freshMs),
    });
  }

  delete(href: string): number {
    return this.store?.delete(href) ?? 0;
  }
}
