import { assert } from '../core/assert.ts';
import { compareBytes } from '../core/binary.ts';
import { SortedMap } from '../core/sorted-map.ts';
import { isSingleKey, isToEnd } from './key-range.ts';
import type { KeyValue } from './types.ts';

/**
 * What a version holds once the store has let its value go: the version was
 * superseded and its backend record written, so the record is the only copy
 * (MvccStore's `valuesOnDisk`). Only historic reads ever need it back.
 */
export const onDisk: unique symbol = Symbol('on disk');
export type OnDisk = typeof onDisk;

/**
 * One change to a key: its new state at revision (main, sub), or a
 * tombstone (`kv` undefined) for a delete. `sub` orders changes within one
 * write transaction. `kv` becomes `onDisk` when the store releases it; that
 * is the only change a version ever sees.
 */
export interface Version {
  readonly main: number;
  readonly sub: number;
  kv: KeyValue | undefined | OnDisk;
}

/** A key and its retained history, oldest first. */
export interface KeyHistory {
  readonly key: Uint8Array;
  readonly versions: Version[];
}

/**
 * Every key ever written and not yet compacted away, in key order, with its
 * history: the in-memory index of the MVCC store (etcd keeps the same in its
 * treeIndex). A B+ tree: lookups and new keys cost O(log n), ranges walk the
 * leaves in order.
 */
export class KeyIndex {
  private readonly keys = new SortedMap<Uint8Array, KeyHistory>(compareBytes);

  /** Builds an index from histories in any order (restoring from a backend scan, which is in revision order). */
  static fromHistories(histories: KeyHistory[]): KeyIndex {
    const index = new KeyIndex();
    histories.sort((a, b) => compareBytes(a.key, b.key));
    index.keys.rebuild(histories.map((history) => [history.key, history] as const));
    return index;
  }

  get(key: Uint8Array): KeyHistory | undefined {
    return this.keys.get(key);
  }

  /** Records a change and returns the version it supersedes, if any; versions of a key must arrive in revision order. */
  add(key: Uint8Array, version: Version): Version | undefined {
    const history = this.keys.getOrInsert(key, () => ({ key, versions: [] }));
    const last = history.versions.at(-1);
    assert(last === undefined || compareRevisions(last, version) < 0, 'versions of a key are added in revision order');
    history.versions.push(version);
    return last;
  }

  /** The histories of the keys in (key, rangeEnd), in key order. */
  range(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyHistory[] {
    if (isSingleKey(rangeEnd)) {
      const history = this.get(key);
      return history === undefined ? [] : [history];
    }
    const upper = isToEnd(rangeEnd) ? undefined : rangeEnd;
    if (upper !== undefined && compareBytes(key, upper) >= 0) return [];
    return [...this.keys.range(key, upper)].map(([, history]) => history);
  }

  all(): KeyHistory[] {
    return [...this.keys.entries()].map(([, history]) => history);
  }

  /** Drops keys whose history became empty (after compaction). */
  removeEmpty(): void {
    const kept = [...this.keys.entries()].filter(([, history]) => history.versions.length > 0);
    if (kept.length !== this.keys.size) this.keys.rebuild(kept);
  }
}

export function compareRevisions(a: { main: number; sub: number }, b: { main: number; sub: number }): number {
  return a.main - b.main || a.sub - b.sub;
}

/** The newest version at or below revision `main`: the key's state then (none, or a tombstone: absent). */
export function versionAt(history: KeyHistory, main: number): Version | undefined {
  const versions = history.versions;
  for (let i = versions.length - 1; i >= 0; i -= 1) {
    const version = versions[i]!;
    if (version.main <= main) return version;
  }
  return undefined;
}

/** The key's latest state (undefined when absent). A key's latest version always keeps its value in memory. */
export function latest(history: KeyHistory): KeyValue | undefined {
  const kv = history.versions.at(-1)?.kv;
  assert(kv !== onDisk, 'the latest version of a key keeps its value');
  return kv;
}
