import { assert } from './assert.ts';

/**
 * An ordered map as a B+ tree: O(log n) lookups and inserts, and ordered
 * scans along linked leaves. The MVCC key index keeps every key in one of
 * these (etcd keeps a B-tree too); a sorted array would make each new key
 * an O(n) insert, and a million keys quadratic.
 *
 * Removal is done in bulk (`rebuild` from the survivors), which is all
 * compaction needs.
 */
const maxEntries = 64;

interface Leaf<K, V> {
  readonly leaf: true;
  keys: K[];
  values: V[];
  next: Leaf<K, V> | undefined;
}

interface Branch<K, V> {
  readonly leaf: false;
  /** keys[i] is the smallest key under children[i + 1]. */
  keys: K[];
  children: TreeNode<K, V>[];
}

type TreeNode<K, V> = Leaf<K, V> | Branch<K, V>;

export class SortedMap<K, V> {
  private root: TreeNode<K, V> = emptyLeaf();
  private count = 0;

  constructor(private readonly compare: (a: K, b: K) => number) {}

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    const leaf = this.leafFor(key);
    const at = this.lowerBound(leaf.keys, key);
    return at < leaf.keys.length && this.compare(leaf.keys[at]!, key) === 0 ? leaf.values[at] : undefined;
  }

  /** The value at `key`, inserting `create()` first when there is none. */
  getOrInsert(key: K, create: () => V): V {
    const path: { node: Branch<K, V>; child: number }[] = [];
    let node = this.root;
    while (!node.leaf) {
      const child = this.upperBound(node.keys, key);
      path.push({ node, child });
      node = node.children[child]!;
    }
    const at = this.lowerBound(node.keys, key);
    if (at < node.keys.length && this.compare(node.keys[at]!, key) === 0) return node.values[at]!;
    const value = create();
    node.keys.splice(at, 0, key);
    node.values.splice(at, 0, value);
    this.count += 1;
    this.splitUp(node, path);
    return value;
  }

  /** Entries with lower <= key < upper (upper undefined: to the end), in order. */
  *range(lower: K, upper: K | undefined): Generator<[K, V]> {
    let leaf: Leaf<K, V> | undefined = this.leafFor(lower);
    let at = this.lowerBound(leaf.keys, lower);
    while (leaf !== undefined) {
      for (; at < leaf.keys.length; at += 1) {
        const key = leaf.keys[at]!;
        if (upper !== undefined && this.compare(key, upper) >= 0) return;
        yield [key, leaf.values[at]!];
      }
      leaf = leaf.next;
      at = 0;
    }
  }

  /** Every entry, in order. */
  *entries(): Generator<[K, V]> {
    let leaf: Leaf<K, V> | undefined = this.firstLeaf();
    while (leaf !== undefined) {
      for (let i = 0; i < leaf.keys.length; i += 1) yield [leaf.keys[i]!, leaf.values[i]!];
      leaf = leaf.next;
    }
  }

  /** Replace the contents with `sorted` (strictly ascending keys), built bottom-up in O(n). */
  rebuild(sorted: readonly (readonly [K, V])[]): void {
    const fill = Math.floor((maxEntries * 3) / 4);
    let level: TreeNode<K, V>[] = [];
    let previous: Leaf<K, V> | undefined;
    for (let i = 0; i < sorted.length; i += fill) {
      const chunk = sorted.slice(i, i + fill);
      const leaf: Leaf<K, V> = {
        leaf: true,
        keys: chunk.map((e) => e[0]),
        values: chunk.map((e) => e[1]),
        next: undefined,
      };
      if (previous !== undefined) previous.next = leaf;
      previous = leaf;
      level.push(leaf);
    }
    while (level.length > 1) {
      const parents: TreeNode<K, V>[] = [];
      for (let i = 0; i < level.length; i += fill) {
        const children = level.slice(i, i + fill);
        parents.push({ leaf: false, keys: children.slice(1).map((child) => firstKey(child)), children });
      }
      level = parents;
    }
    this.root = level[0] ?? emptyLeaf();
    this.count = sorted.length;
  }

  private leafFor(key: K): Leaf<K, V> {
    let node = this.root;
    while (!node.leaf) node = node.children[this.upperBound(node.keys, key)]!;
    return node;
  }

  private firstLeaf(): Leaf<K, V> {
    let node = this.root;
    while (!node.leaf) node = node.children[0]!;
    return node;
  }

  /** Split `node` if it overflowed, and its ancestors in turn. */
  private splitUp(node: TreeNode<K, V>, path: { node: Branch<K, V>; child: number }[]): void {
    let current = node;
    for (let depth = path.length; current.keys.length > maxEntries; depth -= 1) {
      const [separator, right] = split(current);
      const parent = path[depth - 1];
      if (parent === undefined) {
        this.root = { leaf: false, keys: [separator], children: [current, right] };
        return;
      }
      parent.node.keys.splice(parent.child, 0, separator);
      parent.node.children.splice(parent.child + 1, 0, right);
      current = parent.node;
    }
  }

  /** First position whose key is >= key. */
  private lowerBound(keys: readonly K[], key: K): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position whose key is > key: the child of a branch that holds `key`. */
  private upperBound(keys: readonly K[], key: K): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(keys[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function emptyLeaf<K, V>(): Leaf<K, V> {
  return { leaf: true, keys: [], values: [], next: undefined };
}

function firstKey<K, V>(node: TreeNode<K, V>): K {
  let current = node;
  while (!current.leaf) current = current.children[0]!;
  const key = current.keys[0];
  assert(key !== undefined, 'a built node is not empty');
  return key;
}

/** Halve an overflowing node; returns the separator (the right half's smallest key) and the right half. */
function split<K, V>(node: TreeNode<K, V>): [K, TreeNode<K, V>] {
  const half = node.keys.length >>> 1;
  if (node.leaf) {
    const right: Leaf<K, V> = {
      leaf: true,
      keys: node.keys.splice(half),
      values: node.values.splice(half),
      next: node.next,
    };
    node.next = right;
    return [right.keys[0]!, right];
  }
  // Branch: the middle key moves up; its left and right children stay on each side.
  const separator = node.keys[half]!;
  const right: Branch<K, V> = {
    leaf: false,
    keys: node.keys.splice(half + 1),
    children: node.children.splice(half + 1),
  };
  node.keys.length = half;
  return [separator, right];
}
