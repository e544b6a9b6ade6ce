import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BinaryReader, BinaryWriter, compareBytes, packCopies } from './binary.ts';
import { isWeftError } from './errors.ts';

describe('binary codec', () => {
  it('round-trips varints, bytes, text and booleans', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.uint8Array({ maxLength: 50 }),
        fc.string(),
        fc.boolean(),
        (n, bytes, text, flag) => {
          const encoded = new BinaryWriter(1).uvarint(n).bytes(bytes).string(text).bool(flag).finish();
          const reader = new BinaryReader(encoded, 'sample');
          assert.equal(reader.uvarint(), n);
          assert.deepEqual(reader.bytes(), bytes);
          assert.equal(reader.string(), text);
          assert.equal(reader.bool(), flag);
          reader.end();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes text as its UTF-8 bytes behind a length, on the ASCII path and off it', () => {
    const reference = (text: string): Uint8Array => {
      const utf8 = new TextEncoder().encode(text);
      return new BinaryWriter().uvarint(utf8.length).raw(utf8).finish();
    };
    const samples = ['', 'n1', 'a'.repeat(127), 'a'.repeat(128), 'é', 'a'.repeat(126) + '€', 'ab\u{1F600}cd'];
    const arbitrary = fc.string({ unit: 'binary', maxLength: 200 });
    for (const text of [...samples, ...fc.sample(arbitrary, 300)]) {
      // After another field, so a text that leaves the ASCII path midway must not leave its bytes behind.
      const encoded = new BinaryWriter(1).u8(7).string(text).finish();
      assert.deepEqual(encoded.subarray(1), reference(text), JSON.stringify(text));
      const reader = new BinaryReader(encoded, 'sample');
      reader.u8();
      assert.equal(reader.string(), text);
      reader.end();
    }
  });

  it('rejects text that is not UTF-8, and text running past the end', () => {
    const invalid = new BinaryWriter().bytes(new Uint8Array([0xc3, 0x28])).finish();
    assert.throws(
      () => new BinaryReader(invalid, 'note').string(),
      (e: unknown) => isWeftError(e, 'DECODE_FAILED') && /note: invalid UTF-8 text/.test(e.message),
    );
    const truncated = new BinaryWriter().string('node-1').finish().subarray(0, 4);
    assert.throws(
      () => new BinaryReader(truncated, 'note').string(),
      (e: unknown) => isWeftError(e, 'DECODE_FAILED') && /length 6 runs past the end/.test(e.message),
    );
  });

  it('packs copies into shared buffers of at most 16 KiB, apart from the input', () => {
    const sizes = fc.array(fc.oneof(fc.nat({ max: 300 }), fc.integer({ min: 5_000, max: 20_000 })), { maxLength: 30 });
    fc.assert(
      fc.property(sizes, fc.nat({ max: 255 }), (lengths, fill) => {
        const input = new Uint8Array(lengths.reduce((sum, n) => sum + n, 0)).map((_, i) => (i * 7 + fill) % 256);
        let offset = 0;
        const views = lengths.map((n) => input.subarray(offset, (offset += n)));
        const expected = views.map((view) => Uint8Array.from(view));
        const copies = packCopies(views);
        input.fill(0);
        assert.deepEqual(copies, expected);
        const buffers = new Set(copies.map((copy) => copy.buffer));
        for (const buffer of buffers) {
          const users = copies.filter((copy) => copy.buffer === buffer);
          assert.ok(buffer.byteLength <= 16 * 1024 || users.length === 1, 'a shared buffer is at most 16 KiB');
        }
        if (lengths.length > 1 && lengths.every((n) => n <= 300)) assert.equal(buffers.size, 1);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects truncated input and trailing bytes with DECODE_FAILED naming what was decoded', () => {
    const encoded = new BinaryWriter().bytes(new Uint8Array([1, 2, 3])).finish();
    assert.throws(
      () => new BinaryReader(encoded.subarray(0, 3), 'KV command').bytes(),
      (e: unknown) => isWeftError(e, 'DECODE_FAILED') && /KV command: length 3 runs past the end/.test(e.message),
    );
    const reader = new BinaryReader(new Uint8Array([0, 9]), 'thing');
    reader.u8();
    assert.throws(() => reader.end(), /1 trailing bytes/);
    assert.throws(() => new BinaryReader(new Uint8Array(9).fill(0x80), 'v').uvarint(), /longer than 8 bytes/);
  });

  it('orders byte strings lexicographically, shorter prefix first', () => {
    assert.ok(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) < 0);
    assert.ok(compareBytes(new Uint8Array([2]), new Uint8Array([1, 9])) > 0);
    assert.equal(compareBytes(new Uint8Array([4, 5]), new Uint8Array([4, 5])), 0);
  });
});
