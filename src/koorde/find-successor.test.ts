import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../core/prng.ts';
import { RingOracle, stableTable } from '../sim/koorde/ring.ts';
import { traceLookup } from '../sim/koorde/trace.ts';
import { advanceWalk, imaginaryStart } from './find-successor.ts';
import { createIdSpace, inHalfOpen, type Id, type IdSpace } from './id-space.ts';
import type { RoutingTable } from './routing-table.ts';

const small = createIdSpace(8, 4);
const smallIds = [0x10n, 0x35n, 0x52n, 0x80n, 0xa7n, 0xc3n, 0xe9n];
const ref = (id: Id) => ({ id, address: `n${id.toString(16)}` });

function ring(space: IdSpace, ids: readonly Id[], successorListLength = 3): Map<Id, RoutingTable> {
  const oracle = new RingOracle(ids);
  const limits = { successorListLength, candidatesPerHop: 3 };
  return new Map(ids.map((id) => [id, stableTable(space, oracle, id, ref, limits)]));
}

describe('imaginary start (Koorde §3.3, golden)', () => {
  it("puts the key's top bits in i's low bits and shifts them out of the key", () => {
    // self 0x10, successor 0x35: 37 ids to choose from, so 6 of the key's 8 bits fit.
    assert.deepEqual(imaginaryStart(small, 0x10n, 0x35n, 0x9bn), { imaginary: 0x26n, shiftedKey: 0xc0n, stepsLeft: 1 });
    // An interval of 3 ids holds only 2 bits: three digits remain.
    assert.deepEqual(imaginaryStart(small, 0x10n, 0x13n, 0x9bn), { imaginary: 0x12n, shiftedKey: 0x6cn, stepsLeft: 3 });
    // Alone on the ring: the whole key fits but one digit (a finished walk is the owner check).
    assert.deepEqual(imaginaryStart(small, 0x10n, 0x10n, 0x9bn), { imaginary: 0x26n, shiftedKey: 0xc0n, stepsLeft: 1 });
  });

  it('works when b is not a multiple of log2(k): b=7, k=4 leaves one odd bit in i', () => {
    const odd = createIdSpace(7, 4);
    const walk = imaginaryStart(odd, 0x00n, 0x01n, 0x5an);
    assert.deepEqual(walk, { imaginary: 0x01n, shiftedKey: 0x34n, stepsLeft: 3 });
    let w = walk!;
    while (w.stepsLeft > 0) w = advanceWalk(odd, w);
    assert.equal(w.imaginary, 0x5an);
    // An interval of one id whose low bit is wrong holds not even that bit.
    assert.equal(imaginaryStart(odd, 0x01n, 0x02n, 0x5an), undefined);
  });

  it('any start, walked to the end, stands on the key (property, b=64, k=8)', () => {
    const space = createIdSpace(64, 8);
    const prng = createPrng(11);
    const random = (): Id => (BigInt(prng.int(0, 0xffffffff)) << 32n) | BigInt(prng.int(0, 0xffffffff));
    for (let i = 0; i < 500; i += 1) {
      const [self, successor, key] = [random(), random(), random()];
      const walk = imaginaryStart(space, self, successor, key);
      assert.ok(walk !== undefined && inHalfOpen(space, walk.imaginary, self, successor));
      let w = walk;
      while (w.stepsLeft > 0) w = advanceWalk(space, w);
      assert.equal(w.imaginary, key);
    }
  });
});

describe('lookup steps on a 7-node ring, b=8, k=4, r=2 (golden)', () => {
  const tables = ring(small, smallIds, 2);

  it('takes the de Bruijn step locally while i stays in (self, successor], then jumps via the window', () => {
    // 0x10 owns imaginary 0x34 in (0x10, 0x35]; 4·0x34 + 0 = 0xd0 is the key. The window of 0x10
    // starts at the predecessor of 4·0x10 = 0x40 (0x35; its own predecessor, 0x10, is self).
    assert.deepEqual(
      tables.get(0x10n)?.window.map((n) => n.id),
      [0x35n, 0x52n, 0x80n, 0xa7n, 0xc3n],
    );
    assert.deepEqual(traceLookup(small, tables, 0x10n, 0xd0n).lines, [
      '10: i=d0 left=0 local=1 -> c3,a7,80',
      'c3: owner e9,10',
      'e9: owner e9,10',
    ]);
  });

  it('names the owner from two known neighbours, and the owner confirms', () => {
    assert.deepEqual(traceLookup(small, tables, 0x10n, 0x11n).lines, ['10: owner 35,52', '35: owner 35,52']);
    assert.deepEqual(traceLookup(small, tables, 0x10n, 0x9bn).lines, ['10: owner a7,c3', 'a7: owner a7,c3']);
    assert.deepEqual(traceLookup(small, tables, 0x52n, 0x52n).lines, ['52: owner 52,80']);
  });

  it('routes around a dead hop with the backup candidate, which routes around it too', () => {
    const { lines, run } = traceLookup(small, tables, 0x10n, 0xd0n, new Set([0xc3n]));
    assert.deepEqual(lines, [
      '10: i=d0 left=0 local=1 -> c3,a7,80',
      'c3: no answer',
      'a7: owner e9',
      'e9: owner e9,10',
    ]);
    assert.deepEqual([run.hops, run.confirmations, run.failures], [1, 1, 1]);
  });

  it('every origin finds the true owner of every key', () => {
    const oracle = new RingOracle(smallIds);
    for (const origin of smallIds) {
      for (let key = 0n; key < 256n; key += 1n) {
        const { run } = traceLookup(small, tables, origin, key);
        const action = run.next();
        assert.ok(action.kind === 'done', `lookup of ${key} from ${origin} finished`);
        assert.equal(action.owners[0]?.id, oracle.successorOf(key));
      }
    }
  });
});

describe('lookup steps on a 64-bit ring (golden)', () => {
  it('a 64-node ring, k=8: one hop, one confirmation; not b/log2(k) = 21 hops', () => {
    const space = createIdSpace(64, 8);
    const prng = createPrng(3);
    const ids = Array.from(
      { length: 64 },
      () => (BigInt(prng.int(0, 0xffffffff)) << 32n) | BigInt(prng.int(0, 0xffffffff)),
    );
    const tables = ring(space, ids, 8);
    const { lines } = traceLookup(space, tables, ids[0]!, 0x0123456789abcdefn);
    assert.deepEqual(lines, [
      'b81a16e7a4d7c049: i=c4048d159e26af37 left=2 local=1 -> beb2acdb8f353610,bd837ead727821e9,bb1f7f7e8d9c9219',
      'beb2acdb8f353610: owner 029dff567be56d19,07b64855700df39c',
      '029dff567be56d19: owner 029dff567be56d19,07b64855700df39c',
    ]);
    assert.equal(new RingOracle(ids).successorOf(0x0123456789abcdefn), 0x029dff567be56d19n);
  });
});
