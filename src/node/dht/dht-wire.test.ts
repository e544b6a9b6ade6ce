import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import { decode, encode } from './dht-wire.ts';

describe('DHT wire encoding', () => {
  it('carries ids as hex in their named fields, and only there', () => {
    const message = {
      key: 0xdeadbeefn,
      walk: { imaginary: 0x10n, shiftedKey: 0xff00n, stepsLeft: 3 },
      avoid: [1n, 0xabn],
      items: [{ id: 7n, name: 'key', value: 'id', version: 5, deleted: false }],
    };
    const bytes = encode(message);
    assert.match(new TextDecoder().decode(bytes), /"key":"deadbeef"/);
    assert.deepEqual(decode(bytes), message);
  });

  it('rejects an id that is not hex, and bytes that are not JSON, as BAD_REQUEST', () => {
    const bad = new TextEncoder().encode('{"key":"xyz"}');
    assert.throws(
      () => decode(bad),
      (e: unknown) => isWeftError(e, 'BAD_REQUEST'),
    );
    assert.throws(
      () => decode(new TextEncoder().encode('{')),
      (e: unknown) => isWeftError(e, 'BAD_REQUEST'),
    );
  });
});
