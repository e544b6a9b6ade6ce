import { bytesEqual, compareBytes } from '../core/binary.ts';

/**
 * Key ranges as etcd names them: (key, rangeEnd) with rangeEnd absent or
 * empty for one key, [0] for "every key >= key", else [key, rangeEnd).
 */
export function rangeContains(start: Uint8Array, rangeEnd: Uint8Array | undefined, key: Uint8Array): boolean {
  if (isSingleKey(rangeEnd)) return bytesEqual(start, key);
  if (compareBytes(key, start) < 0) return false;
  return isToEnd(rangeEnd) || compareBytes(key, rangeEnd) < 0;
}

export function isSingleKey(rangeEnd: Uint8Array | undefined): rangeEnd is undefined {
  return rangeEnd === undefined || rangeEnd.length === 0;
}

/** rangeEnd = [0]: no upper bound. */
export function isToEnd(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** A Map/Set key for bytes: one char per byte, so equal bytes give equal strings. */
export function bytesKey(bytes: Uint8Array): string {
  // Latin-1 maps each byte to the char of the same code, in one string (a
  // loop of += made one per byte). Not TextDecoder('latin1'): that is
  // windows-1252, which remaps 0x80-0x9f.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function keyBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/**
 * The range end that makes [prefix, end) every key starting with `prefix`:
 * the prefix cut after its last byte below 0xff, that byte incremented;
 * [0] (no upper bound) when every byte is 0xff. etcd clients compute it alike.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i -= 1) {
    if (prefix[i]! < 0xff) return Uint8Array.of(...prefix.subarray(0, i), prefix[i]! + 1);
  }
  return new Uint8Array([0]);
}
