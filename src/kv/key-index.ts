import { assert } from '../core/assert.ts';
import { compareBytes } from '../core/binary.ts';
import { isSingleKey, isToEnd } from './key-range.ts';
import type { KeyValue } from './types.ts';

/**
 * One change to a key: its new state at revision (main, sub), or a
 * tombstone (`kv` undefined) for a delete. `sub` orders changes within one
 * write transaction.
 */
export interface Version {
  readonly main: number;
  readonly sub: number;
  readonly kv: KeyValue | undefined;
}

/** A key and its retained history, oldest first. */
export interface KeyHistory {
  readonly key: Uint8Array;
  readonly versions: Version[];
}

/**
 * Every key ever written and not yet compacted away, in key order, with its
 * history: the in-memory index of the MVCC store (etcd keeps the same in its
 * treeIndex). A sorted array with binary search: lookups are O(log n), a new
 * key costs an O(n) insert.
 */
export class KeyIndex {
  private keys: KeyHistory[] = [];

  /** Builds an index from histories in any order (restoring from a backend scan, which is in revision order). */
  static fromHistories(histories: KeyHistory[]): KeyIndex {
    const index = new KeyIndex();
    index.keys = histories.sort((a, b) => compareBytes(a.key, b.key));
    return index;
  }

  /** Position of the first key >= `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.keys[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: Uint8Array): KeyHistory | undefined {
    const at = this.lowerBound(key);
    const found = this.keys[at];
    return found !== undefined && compareBytes(found.key, key) === 0 ? found : undefined;
  }

  /** Records a change; versions of a key must arrive in revision order. */
  add(key: Uint8Array, version: Version): void {
    const at = this.lowerBound(key);
    let history = this.keys[at];
    if (history === undefined || compareBytes(history.key, key) !== 0) {
      history = { key, versions: [] };
      this.keys.splice(at, 0, history);
    }
    const last = history.versions.at(-1);
    assert(last === undefined || compareRevisions(last, version) < 0, 'versions of a key are added in revision order');
    history.versions.push(version);
  }

  /** The histories of the keys in (key, rangeEnd), in key order. */
  range(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyHistory[] {
    if (isSingleKey(rangeEnd)) {
      const history = this.get(key);
      return history === undefined ? [] : [history];
    }
    const from = this.lowerBound(key);
    const to = isToEnd(rangeEnd) ? this.keys.length : this.lowerBound(rangeEnd);
    return from < to ? this.keys.slice(from, to) : [];
  }

  all(): readonly KeyHistory[] {
    return this.keys;
  }

  /** Drops keys whose history became empty (after compaction). */
  removeEmpty(): void {
    let kept = 0;
    for (const history of this.keys) if (history.versions.length > 0) this.keys[kept++] = history;
    this.keys.length = kept;
  }
}

export function compareRevisions(a: { main: number; sub: number }, b: { main: number; sub: number }): number {
  return a.main - b.main || a.sub - b.sub;
}

/** The key's state as of revision `main`: the newest version at or below it, unless that is a tombstone. */
export function visibleAt(history: KeyHistory, main: number): KeyValue | undefined {
  const versions = history.versions;
  for (let i = versions.length - 1; i >= 0; i -= 1) {
    const version = versions[i]!;
    if (version.main <= main) return version.kv;
  }
  return undefined;
}
