import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  createIdSpace,
  deBruijnPoint,
  deBruijnStep,
  distance,
  idToHex,
  inHalfOpen,
  inOpen,
  parseIdHex,
  topBits,
  wrap,
} from './id-space.ts';
import { AssertionFailure } from '../core/assert.ts';

const small = createIdSpace(8, 4);
const wide = createIdSpace(64, 8);

describe('identifier arithmetic (golden)', () => {
  it('derives digit size and width from b and k', () => {
    assert.deepEqual(
      { ...wide, size: wide.size.toString(16) },
      { bits: 64, degree: 8, digitBits: 3, size: '10000000000000000', hexDigits: 16 },
    );
    assert.throws(() => createIdSpace(64, 6), AssertionFailure);
    assert.throws(() => createIdSpace(257, 2), AssertionFailure);
  });

  it('wraps and measures clockwise distance mod 2^b', () => {
    assert.equal(wrap(small, 256n + 5n), 5n);
    assert.equal(wrap(small, -1n), 255n);
    assert.equal(distance(small, 0xf0n, 0x10n), 0x20n);
    assert.equal(distance(small, 0x10n, 0xf0n), 0xe0n);
    assert.equal(distance(wide, 1n, 0n), 0xffffffffffffffffn);
  });

  it('(a, b] and (a, b) wrap around zero; (a, a] is the whole circle', () => {
    const table: [bigint, bigint, bigint, boolean, boolean][] = [
      // x,    a,     b,    (a,b]  (a,b)
      [0x20n, 0x10n, 0x30n, true, true],
      [0x30n, 0x10n, 0x30n, true, false],
      [0x10n, 0x10n, 0x30n, false, false],
      [0x05n, 0xf0n, 0x10n, true, true],
      [0xf0n, 0xf0n, 0x10n, false, false],
      [0x50n, 0xf0n, 0x10n, false, false],
      [0x77n, 0x40n, 0x40n, true, true],
      [0x40n, 0x40n, 0x40n, true, false],
    ];
    for (const [x, a, b, half, open] of table) {
      assert.equal(inHalfOpen(small, x, a, b), half, `${x} in (${a}, ${b}]`);
      assert.equal(inOpen(small, x, a, b), open, `${x} in (${a}, ${b})`);
    }
  });

  it('prints fixed-width hex and parses it back, rejecting ids outside the space', () => {
    assert.equal(idToHex(wide, 0x1a2bn), '0000000000001a2b');
    assert.equal(idToHex(small, 0xan), '0a');
    assert.equal(parseIdHex(wide, '0x0000000000001A2B'), 0x1a2bn);
    assert.equal(parseIdHex(small, '100'), undefined);
    assert.equal(parseIdHex(small, 'zz'), undefined);
    assert.equal(parseIdHex(small, ''), undefined);
  });

  it('a de Bruijn step shifts in one base-k digit (§4.1)', () => {
    assert.equal(topBits(small, 0b11010010n, 2), 0b11n);
    assert.equal(topBits(small, 0b11010010n, 0), 0n);
    assert.equal(deBruijnStep(small, 0b11010010n, 2n), 0b01001010n);
    assert.equal(deBruijnStep(wide, 0xe000000000000001n, 7n), 0x000000000000000fn);
    assert.equal(deBruijnPoint(small, 0xe9n), 0xa4n);
    assert.throws(() => deBruijnStep(small, 1n, 4n), AssertionFailure);
  });
});
