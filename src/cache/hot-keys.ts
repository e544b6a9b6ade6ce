import { assert } from '../core/assert.ts';

export interface HotKeyOptions {
  /** Requests per second at or above which a key is hot. */
  readonly thresholdPerSecond: number;
  /** Keys counted per one-second window; keys beyond it are not counted (never hot) until the next window. */
  readonly maxTracked: number;
}

/**
 * Hot-key detection by request rate: counts per key in one-second windows.
 * A key is hot while its count in the current or the previous window has
 * reached the threshold, so it turns hot within the second it gets busy and
 * cools down one to two seconds after it calms. Memory is bounded by
 * `maxTracked` keys per window; the whole window is dropped when it rolls.
 */
export class HotKeys<K> {
  private windowStartMs = 0;
  private current = new Map<K, number>();
  private previous = new Map<K, number>();

  constructor(private readonly options: HotKeyOptions) {
    assert(options.thresholdPerSecond >= 1 && options.maxTracked >= 1, 'hot-key limits are positive');
  }

  /** Count one request for `key` at `nowMs`; true when the key is hot. */
  record(key: K, nowMs: number): boolean {
    this.roll(nowMs);
    const before = this.current.get(key);
    if (before === undefined && this.current.size >= this.options.maxTracked) return this.isHot(key, nowMs);
    const count = (before ?? 0) + 1;
    this.current.set(key, count);
    return count >= this.options.thresholdPerSecond || (this.previous.get(key) ?? 0) >= this.options.thresholdPerSecond;
  }

  isHot(key: K, nowMs: number): boolean {
    this.roll(nowMs);
    const threshold = this.options.thresholdPerSecond;
    return (this.current.get(key) ?? 0) >= threshold || (this.previous.get(key) ?? 0) >= threshold;
  }

  private roll(nowMs: number): void {
    if (nowMs - this.windowStartMs < 1_000) return;
    // A gap of more than one window means the previous window saw nothing.
    this.previous = nowMs - this.windowStartMs < 2_000 ? this.current : new Map();
    this.current = new Map();
    this.windowStartMs = nowMs - (nowMs % 1_000);
  }
}
