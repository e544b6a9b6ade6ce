import { assert } from '../core/assert.ts';
import { WeftError } from '../core/errors.ts';

/**
 * The wire format of a message link: a TCP connection to a peer's port that
 * carries one-way messages (Raft traffic, forwarded proposals) without
 * HTTP/2 or gRPC around each one.
 *
 *   hello  = magic "WEFTMSG1" · u16 BE length · the sender's advertised address (UTF-8)
 *   frame  = u32 BE length of the rest · u8 channel length · channel (UTF-8) · payload
 *
 * The magic's first byte ('W') is never the first byte of an HTTP/2
 * connection (its preface starts with 'P'), so one port serves both.
 */
export const LINK_MAGIC = Buffer.from('WEFTMSG1', 'latin1');
const HELLO_HEADER_BYTES = LINK_MAGIC.length + 2;
const FRAME_HEADER_BYTES = 5;
const MAX_CHANNEL_BYTES = 255;
const MAX_ADDRESS_BYTES = 1024;

export interface Frame {
  readonly channel: string;
  readonly payload: Uint8Array;
}

export function encodeHello(from: string): Buffer {
  const address = Buffer.from(from, 'utf8');
  assert(address.length <= MAX_ADDRESS_BYTES, `an advertised address is at most ${MAX_ADDRESS_BYTES} bytes`);
  const hello = Buffer.allocUnsafe(HELLO_HEADER_BYTES + address.length);
  LINK_MAGIC.copy(hello, 0);
  hello.writeUInt16BE(address.length, LINK_MAGIC.length);
  address.copy(hello, HELLO_HEADER_BYTES);
  return hello;
}

/** One frame in one buffer (one write, one system call). */
export function encodeFrame(channel: Buffer, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + channel.length + payload.length);
  frame.writeUInt32BE(1 + channel.length + payload.length, 0);
  frame[4] = channel.length;
  channel.copy(frame, FRAME_HEADER_BYTES);
  frame.set(payload, FRAME_HEADER_BYTES + channel.length);
  return frame;
}

/** A channel name as frames carry it; names are short and few, so callers keep these. */
export function channelBytes(channel: string): Buffer {
  const bytes = Buffer.from(channel, 'utf8');
  assert(bytes.length > 0 && bytes.length <= MAX_CHANNEL_BYTES, `a channel name is 1 to ${MAX_CHANNEL_BYTES} bytes`);
  return bytes;
}

/**
 * Reads a link's byte stream as it arrives, in chunks cut anywhere: the
 * hello first, then frames. A payload is a view of the bytes received, not
 * a copy. The chunks of a frame are kept apart until all of it is there and
 * joined once (joining at every chunk copied a frame of n chunks n times).
 * Malformed input (wrong magic, a frame over the size limit, a channel name
 * past its frame) throws DECODE_FAILED as soon as it is seen; the link is
 * then closed, since nothing after it can be trusted.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes to buffer before parsing can make progress: a frame header, or the whole frame it announces. */
  private needed = FRAME_HEADER_BYTES;
  private sender: string | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** The sender's address, once the hello has arrived. */
  get from(): string | undefined {
    return this.sender;
  }

  /** Takes a chunk; returns the frames it completes, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // The hello is small and checked byte by byte as it comes; frames wait until parsing can progress.
    if (this.sender !== undefined && this.buffered < this.needed) return [];
    const buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    let offset = 0;
    if (this.sender === undefined) {
      offset = this.readHello(buffer);
      if (this.sender === undefined) {
        this.keep(buffer, 0);
        return [];
      }
    }
    const frames: Frame[] = [];
    for (;;) {
      if (buffer.length - offset < FRAME_HEADER_BYTES) {
        this.needed = FRAME_HEADER_BYTES;
        break;
      }
      const length = buffer.readUInt32BE(offset);
      if (length < 1 || length > this.maxFrameBytes + 1 + MAX_CHANNEL_BYTES) {
        throw new WeftError('DECODE_FAILED', `a message link frame of ${length} bytes is over the limit`);
      }
      if (buffer.length - offset - 4 < length) {
        this.needed = 4 + length;
        break;
      }
      const channelLength = buffer[offset + 4]!;
      if (channelLength === 0 || channelLength > length - 1) {
        throw new WeftError('DECODE_FAILED', `a message link frame names a channel of ${channelLength} bytes`);
      }
      const channelStart = offset + FRAME_HEADER_BYTES;
      const payloadStart = channelStart + channelLength;
      const end = offset + 4 + length;
      frames.push({
        channel: buffer.toString('utf8', channelStart, payloadStart),
        payload: new Uint8Array(buffer.buffer, buffer.byteOffset + payloadStart, end - payloadStart),
      });
      offset = end;
    }
    this.keep(buffer, offset);
    return frames;
  }

  /** Keeps what is not parsed yet. */
  private keep(buffer: Buffer, offset: number): void {
    this.chunks = offset === buffer.length ? [] : [buffer.subarray(offset)];
    this.buffered = buffer.length - offset;
  }

  /** Reads the hello if it is all there; returns the offset after it (0 if not yet). */
  private readHello(buffer: Buffer): number {
    const magicSeen = Math.min(buffer.length, LINK_MAGIC.length);
    if (!buffer.subarray(0, magicSeen).equals(LINK_MAGIC.subarray(0, magicSeen))) {
      throw new WeftError('DECODE_FAILED', 'a message link must start with its hello');
    }
    if (buffer.length < HELLO_HEADER_BYTES) return 0;
    const length = buffer.readUInt16BE(LINK_MAGIC.length);
    if (length > MAX_ADDRESS_BYTES) throw new WeftError('DECODE_FAILED', `a hello address of ${length} bytes`);
    if (buffer.length < HELLO_HEADER_BYTES + length) return 0;
    this.sender = buffer.toString('utf8', HELLO_HEADER_BYTES, HELLO_HEADER_BYTES + length);
    return HELLO_HEADER_BYTES + length;
  }
}
