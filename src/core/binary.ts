import { assert } from './assert.ts';
import { WeftError } from './errors.ts';

/**
 * A small binary codec shared by the WAL, snapshots and the KV command
 * encoding: unsigned varints (LEB128, up to 2^53 - 1), length-prefixed byte
 * strings and UTF-8 text. Decoding never reads past its input: a short or
 * malformed buffer is a DECODE_FAILED error, never an out-of-bounds read.
 */
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** The most bytes that copies share one buffer for (packCopies): what one copy still in use can keep alive. */
const PACKED_CHUNK_BYTES = 16 * 1024;

/**
 * Copies of `views`, in order, that share buffers of up to 16 KiB (a larger
 * view gets one of its own). A copy each would be an ArrayBuffer each, and
 * V8 visits every live ArrayBuffer at every collection: the entries of a
 * Raft message live until the log is compacted, and their values as long as
 * the store keeps them. The price: a copy still in use keeps its chunk.
 */
export function packCopies(views: readonly Uint8Array[]): Uint8Array[] {
  const copies: Uint8Array[] = [];
  let first = 0;
  while (first < views.length) {
    let bytes = views[first]!.length;
    let end = first + 1;
    while (end < views.length && bytes + views[end]!.length <= PACKED_CHUNK_BYTES) {
      bytes += views[end]!.length;
      end += 1;
    }
    const chunk = new Uint8Array(bytes);
    let offset = 0;
    for (let i = first; i < end; i += 1) {
      const view = views[i]!;
      chunk.set(view, offset);
      copies.push(chunk.subarray(offset, offset + view.length));
      offset += view.length;
    }
    first = end;
  }
  return copies;
}

export class BinaryWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes = 64) {
    this.buffer = new Uint8Array(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  u8(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, 'u8 is a byte');
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  uvarint(value: number): this {
    // Checked before the message is built: this runs for every number of every record.
    if (!Number.isSafeInteger(value) || value < 0) assert(false, `uvarint ${value} is a safe non-negative integer`);
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(value: Uint8Array): this {
    this.uvarint(value.length);
    return this.raw(value);
  }

  raw(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    // Short ASCII text (node ids, read contexts: a few in every Raft
    // message) goes straight into the buffer; encode() would allocate a
    // buffer for each. Its length prefix is then the single byte n.
    const n = value.length;
    if (n < 0x80) {
      this.reserve(n + 1);
      const start = this.length + 1;
      let i = 0;
      while (i < n) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        this.buffer[start + i] = code;
        i += 1;
      }
      if (i === n) {
        this.buffer[this.length] = n;
        this.length = start + n;
        return this;
      }
    }
    return this.bytes(textEncoder.encode(value));
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** The bytes written so far (a view; copy it if the writer is reused). */
  finish(): Uint8Array {
    if (this.length === this.buffer.length) return this.buffer;
    // V8 keeps a typed array of up to 64 bytes in its heap, and a view of it
    // (subarray) first moves it out to a buffer of its own: copy those.
    return this.length <= 64 ? this.buffer.slice(0, this.length) : this.buffer.subarray(0, this.length);
  }
}

export class BinaryReader {
  private offset = 0;

  constructor(
    private readonly buffer: Uint8Array,
    /** What is being decoded, for error messages ("WAL entry", "KV command"). */
    private readonly what: string,
  ) {}

  /** Throws DECODE_FAILED naming what is decoded, the reason and the offset. */
  fail(reason: string): never {
    throw new WeftError('DECODE_FAILED', `${this.what}: ${reason} at byte ${this.offset}`, {
      what: this.what,
      offset: this.offset,
    });
  }

  u8(): number {
    if (this.offset >= this.buffer.length) this.fail('unexpected end of data');
    return this.buffer[this.offset++]!;
  }

  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 8; shift += 1) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) this.fail('varint exceeds 2^53 - 1');
        return value;
      }
      scale *= 0x80;
    }
    return this.fail('varint longer than 8 bytes');
  }

  bytes(): Uint8Array {
    const length = this.uvarint();
    return this.raw(length);
  }

  /**
   * Length-prefixed bytes as a view into the input, not a copy: for a large
   * part of a small input that lives as long as the result anyway (a put's
   * value, kept by the store with the few bytes of its command around it).
   */
  bytesView(): Uint8Array {
    const length = this.uvarint();
    if (length > this.buffer.length - this.offset) this.fail(`length ${length} runs past the end`);
    // A plain Uint8Array even when the input is a Buffer, as raw() returns.
    const value = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.offset, length);
    this.offset += length;
    return value;
  }

  raw(length: number): Uint8Array {
    if (length > this.buffer.length - this.offset) this.fail(`length ${length} runs past the end`);
    // A plain Uint8Array copy, even when the input is a Buffer, so decoded values compare equal to encoded ones.
    const value = new Uint8Array(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  /** How many bytes have been read. */
  get position(): number {
    return this.offset;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  rest(): Uint8Array {
    return this.raw(this.buffer.length - this.offset);
  }

  /** The rest of the input as a view of it, not a copy (a caller that keeps it copies it). */
  restView(): Uint8Array {
    const value = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.offset, this.remaining);
    this.offset = this.buffer.length;
    return value;
  }

  string(): string {
    // Decoded from a view: a copy (bytes()) would allocate a buffer per string.
    const bytes = this.bytesView();
    try {
      return textDecoder.decode(bytes);
    } catch {
      return this.fail('invalid UTF-8 text');
    }
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) this.fail(`boolean byte ${value}`);
    return value === 1;
  }

  /** Fails unless every byte was consumed: trailing bytes mean a format mismatch. */
  end(): void {
    if (this.offset !== this.buffer.length) this.fail(`${this.buffer.length - this.offset} trailing bytes`);
  }
}

/** Lexicographic order of byte strings (the order of etcd keys). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const diff = a[i]! - b[i]!;
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}
