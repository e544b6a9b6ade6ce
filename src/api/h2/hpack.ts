import { decodeHuffman } from './huffman.ts';

/**
 * HPACK (RFC 7541), the header compression of HTTP/2: a decoder with its
 * dynamic table, for the header blocks clients send, and a stateless
 * encoder for answers (literals only, so the peer's table is never used and
 * its size never matters). Header names and values are strings of octets
 * (latin1), as on the wire.
 */
export type HeaderList = [name: string, value: string][];

/** A header block that is not valid HPACK: a connection error (COMPRESSION_ERROR), the table state is lost. */
export class HpackError extends Error {}

/** RFC 7541 Appendix A. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
/** Per entry, beyond its name and value (§4.1). */
const ENTRY_OVERHEAD = 32;
/** Integers past this are refused: no length or index in a sane block comes near it. */
const MAX_INTEGER = 2 ** 31;

export class HpackDecoder {
  /** Newest first, as indexed (§2.3.3). */
  private readonly dynamic: [string, string][] = [];
  private dynamicSize = 0;
  private maxSize: number;

  /** `maxTableSize`: what this side advertised as SETTINGS_HEADER_TABLE_SIZE (4,096 by default). */
  constructor(private readonly maxTableSize = 4096) {
    this.maxSize = maxTableSize;
  }

  /** The header list of one complete block (HEADERS plus its CONTINUATIONs). Throws HpackError. */
  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    const reader = { block, at: 0 };
    let first = true;
    while (reader.at < block.length) {
      const byte = block[reader.at]!;
      if (byte & 0x80) {
        headers.push(this.entry(readInteger(reader, 7)));
      } else if (byte & 0x40) {
        const header = this.literal(reader, 6);
        this.insert(header);
        headers.push(header);
      } else if (byte & 0x20) {
        // A table size update comes first in a block, and stays within what we advertised (§4.2, §6.3).
        if (!first) throw new HpackError('a dynamic table size update after a header field');
        const size = readInteger(reader, 5);
        if (size > this.maxTableSize)
          throw new HpackError(`a table size of ${size}, over the ${this.maxTableSize} allowed`);
        this.maxSize = size;
        this.evict(0);
        continue;
      } else {
        headers.push(this.literal(reader, 4));
      }
      first = false;
    }
    return headers;
  }

  private entry(index: number): [string, string] {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC_TABLE.length) return [...STATIC_TABLE[index - 1]!];
    const entry = this.dynamic[index - STATIC_TABLE.length - 1];
    if (entry === undefined) throw new HpackError(`index ${index} is past the tables`);
    return [entry[0], entry[1]];
  }

  private literal(reader: Reader, prefixBits: number): [string, string] {
    const nameIndex = readInteger(reader, prefixBits);
    const name = nameIndex === 0 ? readString(reader) : this.entry(nameIndex)[0];
    return [name, readString(reader)];
  }

  private insert([name, value]: [string, string]): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evict(size);
    // An entry larger than the table empties it and is not added (§4.4).
    if (size > this.maxSize) return;
    this.dynamic.unshift([name, value]);
    this.dynamicSize += size;
  }

  /** Drops the oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.dynamicSize + room > this.maxSize && this.dynamic.length > 0) {
      const [name, value] = this.dynamic.pop()!;
      this.dynamicSize -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}

interface Reader {
  readonly block: Uint8Array;
  at: number;
}

/** §5.1: an N-bit prefix, continued in 7-bit groups while the prefix is all ones. */
function readInteger(reader: Reader, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  let value = reader.block[reader.at++]! & mask;
  if (value < mask) return value;
  for (let scale = 1; ; scale *= 128) {
    if (reader.at >= reader.block.length) throw new HpackError('an integer runs past the block');
    const byte = reader.block[reader.at++]!;
    value += (byte & 0x7f) * scale;
    if (value > MAX_INTEGER) throw new HpackError('an integer over 2^31');
    if ((byte & 0x80) === 0) return value;
  }
}

/** §5.2: a length with the Huffman flag, then the octets. */
function readString(reader: Reader): string {
  if (reader.at >= reader.block.length) throw new HpackError('a string runs past the block');
  const huffman = (reader.block[reader.at]! & 0x80) !== 0;
  const length = readInteger(reader, 7);
  const end = reader.at + length;
  if (end > reader.block.length) throw new HpackError('a string runs past the block');
  const start = reader.at;
  reader.at = end;
  if (!huffman) return latin1(reader.block, start, end);
  const decoded = decodeHuffman(reader.block, start, end);
  if (decoded === undefined) throw new HpackError('a Huffman string that is not valid');
  return decoded;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Static-table indexes of the names answers use. */
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/**
 * Encodes a header list as literals without indexing (§6.2.2), each name by
 * its static-table index when it has one, strings as plain octets.
 * `:status: 200` is the one field sent fully indexed.
 */
export function encodeHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: number[] = [];
  for (const [name, value] of headers) {
    if (name === ':status' && value === '200') {
      parts.push(0x88);
      continue;
    }
    const index = STATIC_NAME_INDEX.get(name);
    if (index === undefined) {
      parts.push(0x00);
      writeString(parts, name);
    } else writeInteger(parts, index, 4, 0x00);
    writeString(parts, value);
  }
  return Buffer.from(parts);
}

function writeInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function writeString(out: number[], value: string): void {
  writeInteger(out, value.length, 7, 0x00);
  for (let i = 0; i < value.length; i += 1) out.push(value.charCodeAt(i) & 0xff);
}
