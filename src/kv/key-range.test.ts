import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bytesKey, keyBytes } from './key-range.ts';

describe('bytesKey', () => {
  it('maps each byte to the char of the same code, 0x80-0x9f included', () => {
    assert.equal(bytesKey(Uint8Array.of(0, 0x41, 0x80, 0x9f, 0xff)), '\u0000A\u0080\u009f\u00ff');
    assert.equal(bytesKey(new Uint8Array(0)), '');
  });

  it('reads only the view it is given, and keyBytes undoes it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 8 }), (bytes, pad) => {
        const backing = new Uint8Array(pad + bytes.length + pad).fill(0x7e);
        backing.set(bytes, pad);
        const view = backing.subarray(pad, pad + bytes.length);
        const key = bytesKey(view);
        assert.equal(key.length, bytes.length);
        assert.deepEqual(keyBytes(key), bytes);
      }),
      { numRuns: 300 },
    );
  });
});
