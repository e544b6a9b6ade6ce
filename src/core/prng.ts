import { assert } from './assert.ts';

/**
 * A small, fast, seeded pseudo-random generator (xoshiro128**, seeded via
 * splitmix32). Pure layers take one of these instead of calling Math.random,
 * so a run replays exactly from its seed.
 */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A uniformly chosen element; the array must not be empty. */
  pick<T>(items: readonly T[]): T;
  /** A new independent generator derived from this one. */
  fork(): Prng;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function createPrng(seed: number): Prng {
  assert(Number.isSafeInteger(seed), 'prng seed is a safe integer');
  const init = splitmix32(seed ^ Math.floor(seed / 0x100000000));
  let s0 = init();
  let s1 = init();
  let s2 = init();
  let s3 = init();

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  const prng: Prng = {
    next: () => nextU32() / 0x100000000,
    int(min, max) {
      assert(Number.isInteger(min) && Number.isInteger(max) && min <= max, 'int range is ordered');
      return min + Math.floor(prng.next() * (max - min + 1));
    },
    chance: (p) => prng.next() < p,
    pick(items) {
      assert(items.length > 0, 'pick from a non-empty array');
      return items[prng.int(0, items.length - 1)] as (typeof items)[number];
    },
    fork: () => createPrng(nextU32() * 0x200000 + (nextU32() >>> 11)),
  };
  return prng;
}
