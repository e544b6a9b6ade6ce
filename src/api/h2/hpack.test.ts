import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HpackDecoder, HpackError, encodeHeaders } from './hpack.ts';
import { decodeHuffman, huffmanCode } from './huffman.ts';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('HPACK Huffman code', () => {
  it('rebuilds the codes of RFC 7541 Appendix B from their lengths', () => {
    const expected: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [97, 0x3, 5],
      [88, 0xfc, 8],
      [92, 0x7fff0, 19],
      [127, 0xffffffc, 28],
      [153, 0x1fffdc, 21],
      [200, 0x3ffffe2, 26],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, bits] of expected)
      assert.deepEqual(huffmanCode(symbol), { code, bits }, `symbol ${symbol}`);
  });

  it('refuses padding that is not all ones, or longer than 7 bits', () => {
    // 'a' is 00011: padded with ones, 0x1f; with zeros, 0x18.
    assert.equal(decodeHuffman(hex('1f'), 0, 1), 'a');
    assert.equal(decodeHuffman(hex('18'), 0, 1), undefined);
    assert.equal(decodeHuffman(hex('1fff'), 0, 2), undefined);
  });
});

describe('HpackDecoder', () => {
  it('decodes the requests of RFC 7541 C.3 (plain) and C.4 (Huffman), keeping the dynamic table across blocks', () => {
    for (const blocks of [
      [
        '828684410f7777772e6578616d706c652e636f6d',
        '828684be58086e6f2d6361636865',
        '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
      ],
      [
        '828684418cf1e3c2e5f23a6ba0ab90f4ff',
        '828684be5886a8eb10649cbf',
        '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
      ],
    ]) {
      const decoder = new HpackDecoder();
      const base: [string, string][] = [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
      ];
      assert.deepEqual(decoder.decode(hex(blocks[0]!)), base);
      assert.deepEqual(decoder.decode(hex(blocks[1]!)), [...base, ['cache-control', 'no-cache']]);
      assert.deepEqual(decoder.decode(hex(blocks[2]!)), [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/index.html'],
        [':authority', 'www.example.com'],
        ['custom-key', 'custom-value'],
      ]);
    }
  });

  it('evicts the oldest entries from a small table (RFC 7541 C.5)', () => {
    const decoder = new HpackDecoder(256);
    const date = 'Mon, 21 Oct 2013 20:13:21 GMT';
    assert.deepEqual(
      decoder.decode(
        hex(
          '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54' +
            '6e1768747470733a2f2f7777772e6578616d706c652e636f6d',
        ),
      ),
      [
        [':status', '302'],
        ['cache-control', 'private'],
        ['date', date],
        ['location', 'https://www.example.com'],
      ],
    );
    // ":status: 307" pushes ":status: 302" out; indexes 65..63 (c1 c0 bf) then name the older entries.
    assert.deepEqual(decoder.decode(hex('4803333037c1c0bf')), [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', date],
      ['location', 'https://www.example.com'],
    ]);
    assert.throws(() => decoder.decode(hex('c2')), HpackError, 'the evicted entry is gone');
  });

  it('applies a table size update at the start of a block, and refuses one past the limit or after a field', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('410f7777772e6578616d706c652e636f6d'));
    assert.deepEqual(decoder.decode(hex('be')), [[':authority', 'www.example.com']]);
    decoder.decode(hex('20'));
    assert.throws(() => decoder.decode(hex('be')), HpackError, 'a size of 0 empties the table');
    assert.throws(() => new HpackDecoder().decode(hex('3fe21f')), /over the 4096 allowed/);
    assert.throws(() => new HpackDecoder().decode(hex('8220')), /after a header field/);
  });

  it('refuses malformed blocks with an HpackError', () => {
    for (const block of ['80', 'ff80', '4005', '00ff', '7fffffffff7f', '0081ff01']) {
      assert.throws(() => new HpackDecoder().decode(hex(block)), HpackError, block);
    }
  });
});

describe('encodeHeaders', () => {
  it('encodes literals a decoder reads back, leaving no entry in its table', () => {
    const headers: [string, string][] = [
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', '0'],
      ['grpc-message', 'x'.repeat(200)],
    ];
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(encodeHeaders(headers)), headers);
    assert.throws(() => decoder.decode(hex('be')), HpackError);
  });
});
