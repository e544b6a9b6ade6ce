import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32c } from './crc32c.ts';

/** Bit-at-a-time reference: slow, obviously the CRC-32C definition. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the known answers (RFC 3720 B.4)', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  it('equals the bit-at-a-time definition and composes over concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const whole = new Uint8Array([...a, ...b]);
        assert.equal(crc32c(whole), reference(whole));
        assert.equal(crc32c(b, crc32c(a)), crc32c(whole));
      }),
      { numRuns: 500 },
    );
  });
});
