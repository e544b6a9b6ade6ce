import { assert } from '../core/assert.ts';

/**
 * Least-recently-used bookkeeping bounded by bytes: which keys to evict so
 * that a new object fits. It holds sizes, not objects; the store beside it
 * holds the objects. A Map keeps insertion order, so re-inserting a key on
 * use moves it to the young end and the first key is the oldest.
 */
export class ByteLru<K> {
  private readonly sizes = new Map<K, number>();
  private total = 0;

  constructor(readonly maxBytes: number) {
    assert(maxBytes > 0, 'an LRU holds at least one byte');
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.sizes.size;
  }

  has(key: K): boolean {
    return this.sizes.has(key);
  }

  /** Mark `key` as just used. */
  touch(key: K): void {
    const bytes = this.sizes.get(key);
    if (bytes === undefined) return;
    this.sizes.delete(key);
    this.sizes.set(key, bytes);
  }

  /**
   * Record `key` at `bytes` (replacing its old size) as just used, and
   * return the oldest keys that had to go to stay within maxBytes. The
   * caller has checked `bytes <= maxBytes`.
   */
  set(key: K, bytes: number): K[] {
    assert(bytes >= 0 && bytes <= this.maxBytes, 'an object fits the LRU on its own');
    this.delete(key);
    const evicted: K[] = [];
    for (const [oldest, size] of this.sizes) {
      if (this.total + bytes <= this.maxBytes) break;
      this.sizes.delete(oldest);
      this.total -= size;
      evicted.push(oldest);
    }
    this.sizes.set(key, bytes);
    this.total += bytes;
    assert(this.total <= this.maxBytes, 'the LRU stays within its byte bound');
    return evicted;
  }

  delete(key: K): boolean {
    const bytes = this.sizes.get(key);
    if (bytes === undefined) return false;
    this.sizes.delete(key);
    this.total -= bytes;
    return true;
  }
}
