import { assert } from '../core/assert.ts';
import { ByteLru } from './byte-lru.ts';
import type { HeaderMap } from './freshness.ts';
import { varyKey } from './vary.ts';

/** What the store needs to know of a stored response. */
export interface Variant {
  /** The Vary field names of the response, sorted, lower-case. */
  readonly varyFields: readonly string[];
  /** The secondary key of the request that fetched it, for those fields. */
  readonly varyKey: string;
  /** Bytes it costs: body plus header text. */
  readonly bytes: number;
}

export interface VariantStoreLimits {
  /** All variants of all URLs together. */
  readonly maxBytes: number;
  /** One variant; a larger one is not stored. */
  readonly maxObjectBytes: number;
  /** Variants kept per URL (RFC 9111 §4.1 lets a cache keep several); the oldest goes first. */
  readonly maxVariantsPerUrl: number;
}

/**
 * Stored responses by URL, each URL holding its variants newest first
 * (Vary), bounded by bytes with LRU eviction of whole URLs.
 */
export class VariantStore<V extends Variant> {
  private readonly byUrl = new Map<string, V[]>();
  private readonly lru: ByteLru<string>;
  /** URLs evicted to make room since the store was made. */
  evictions = 0;

  constructor(readonly limits: VariantStoreLimits) {
    assert(limits.maxObjectBytes <= limits.maxBytes, 'an object may fill the store, no more');
    assert(limits.maxVariantsPerUrl >= 1, 'a URL keeps at least one variant');
    this.lru = new ByteLru(limits.maxBytes);
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  get urls(): number {
    return this.byUrl.size;
  }

  /** The newest variant of `url` whose Vary fields match `request`, marked as used. */
  find(url: string, request: HeaderMap): V | undefined {
    const variants = this.byUrl.get(url);
    if (variants === undefined) return undefined;
    const hit = variants.find((v) => v.varyFields.length === 0 || varyKey(v.varyFields, request) === v.varyKey);
    if (hit !== undefined) this.lru.touch(url);
    return hit;
  }

  /** The Vary fields the URL's newest variant named, if anything is stored for it. */
  varyFieldsOf(url: string): readonly string[] | undefined {
    return this.byUrl.get(url)?.[0]?.varyFields;
  }

  /** Store a variant, replacing one with the same secondary key. False when it is over the object size. */
  put(url: string, variant: V): boolean {
    if (variant.bytes > this.limits.maxObjectBytes) return false;
    const others = (this.byUrl.get(url) ?? []).filter((v) => v.varyKey !== variant.varyKey);
    const variants = [variant, ...others].slice(0, this.limits.maxVariantsPerUrl);
    let total = variants.reduce((sum, v) => sum + v.bytes, 0);
    while (total > this.limits.maxBytes) total -= variants.pop()?.bytes ?? 0;
    this.byUrl.set(url, variants);
    for (const evicted of this.lru.set(url, total)) {
      this.byUrl.delete(evicted);
      this.evictions += 1;
    }
    return true;
  }

  /** Replace a stored variant in place (a 304 refreshed it); false when it is gone. */
  replace(url: string, old: V, fresh: V): boolean {
    const variants = this.byUrl.get(url);
    const index = variants?.indexOf(old) ?? -1;
    if (variants === undefined || index < 0) return false;
    if (fresh.bytes !== old.bytes) return this.put(url, fresh);
    variants[index] = fresh;
    this.lru.touch(url);
    return true;
  }

  /** Remove every variant of `url`; returns how many there were. */
  delete(url: string): number {
    const count = this.byUrl.get(url)?.length ?? 0;
    this.byUrl.delete(url);
    this.lru.delete(url);
    return count;
  }
}
