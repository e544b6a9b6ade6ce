import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { channelBytes, encodeFrame, encodeHello, FrameDecoder, type Frame } from './frame-codec.ts';

const text = (data: Uint8Array): string => Buffer.from(data).toString('utf8');
const frames = (list: readonly Frame[]): string[] => list.map((f) => `${f.channel}:${text(f.payload)}`);

function stream(): Buffer {
  return Buffer.concat([
    encodeHello('127.0.0.1:7001'),
    encodeFrame(channelBytes('raft'), Buffer.from('one')),
    encodeFrame(channelBytes('kv.propose'), Buffer.from('')),
    encodeFrame(channelBytes('raft'), Buffer.from('three')),
  ]);
}

describe('message link frames', () => {
  it('decode to the sender and the messages, in order', () => {
    const decoder = new FrameDecoder(1024);
    assert.deepEqual(frames(decoder.push(stream())), ['raft:one', 'kv.propose:', 'raft:three']);
    assert.equal(decoder.from, '127.0.0.1:7001');
  });

  it('decode the same whatever the chunks are cut at', () => {
    const bytes = stream();
    for (let size = 1; size <= bytes.length; size += 1) {
      const decoder = new FrameDecoder(1024);
      const got: Frame[] = [];
      for (let at = 0; at < bytes.length; at += size) got.push(...decoder.push(bytes.subarray(at, at + size)));
      assert.deepEqual(frames(got), ['raft:one', 'kv.propose:', 'raft:three'], `chunks of ${size} bytes`);
    }
  });

  it('a frame of megabytes in 64 KiB chunks arrives whole, after its last chunk', () => {
    const payload = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < payload.length; i += 1) payload[i] = i % 251;
    const bytes = Buffer.concat([encodeHello('a:1'), encodeFrame(channelBytes('raft'), payload)]);
    const decoder = new FrameDecoder(4 * 1024 * 1024);
    const got: Frame[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      const frames = decoder.push(bytes.subarray(at, at + 64 * 1024));
      if (at + 64 * 1024 < bytes.length) assert.equal(frames.length, 0);
      got.push(...frames);
    }
    assert.equal(got.length, 1);
    assert.ok(Buffer.from(got[0]!.payload).equals(payload));
  });

  it('a stream that does not start with the hello is refused at its first byte', () => {
    const decoder = new FrameDecoder(1024);
    assert.throws(
      () => decoder.push(Buffer.from('PRI * HTTP/2.0')),
      (e) => isWeftError(e, 'DECODE_FAILED'),
    );
    assert.throws(
      () => new FrameDecoder(1024).push(Buffer.from('WEFTX')),
      (e) => isWeftError(e, 'DECODE_FAILED'),
    );
  });

  it('a frame over the size limit is refused before its bytes arrive', () => {
    const decoder = new FrameDecoder(16);
    decoder.push(encodeHello('a:1'));
    const header = Buffer.alloc(5);
    header.writeUInt32BE(16 + 1 + 255 + 1, 0);
    assert.throws(
      () => decoder.push(header),
      (e) => isWeftError(e, 'DECODE_FAILED') && e.message.includes('over the limit'),
    );
  });

  it('a channel name longer than its frame is refused', () => {
    const decoder = new FrameDecoder(1024);
    decoder.push(encodeHello('a:1'));
    const frame = Buffer.from([0, 0, 0, 3, 9, 0x61, 0x62]);
    assert.throws(
      () => decoder.push(frame),
      (e) => isWeftError(e, 'DECODE_FAILED'),
    );
  });

  it('payloads are views of the received bytes, not copies', () => {
    const bytes = stream();
    const [first] = new FrameDecoder(1024).push(bytes);
    assert.equal(first!.payload.buffer, bytes.buffer);
  });
});
