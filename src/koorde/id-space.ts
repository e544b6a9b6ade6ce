import { assert } from '../core/assert.ts';

/**
 * Identifiers on the 2^b circle and the base-k de Bruijn arithmetic of
 * Koorde (Kaashoek & Karger 2003). Ids are bigints in [0, 2^b); k is a power
 * of two, so one de Bruijn digit is s = log2(k) bits (§4.1).
 */
export type Id = bigint;

export interface IdSpace {
  /** b: bits per identifier. */
  readonly bits: number;
  /** k: de Bruijn degree, a power of two. */
  readonly degree: number;
  /** s = log2(k): bits shifted per de Bruijn step. */
  readonly digitBits: number;
  /** 2^b. */
  readonly size: bigint;
  /** Hex digits needed to print an id. */
  readonly hexDigits: number;
}

/** Largest b supported: ids come from SHA-256, so 256 bits is the most a key hash gives. */
export const maxIdBits = 256;

export function createIdSpace(bits: number, degree: number): IdSpace {
  assert(
    Number.isInteger(degree) && degree >= 2 && (degree & (degree - 1)) === 0,
    `degree ${degree} is a power of two`,
  );
  const digitBits = Math.log2(degree);
  assert(Number.isInteger(bits) && bits >= digitBits && bits <= maxIdBits, `id bits ${bits} in [log2 k, 256]`);
  return { bits, degree, digitBits, size: 1n << BigInt(bits), hexDigits: Math.ceil(bits / 4) };
}

export function isId(space: IdSpace, value: bigint): boolean {
  return value >= 0n && value < space.size;
}

/** (x mod 2^b), always non-negative. */
export function wrap(space: IdSpace, value: bigint): Id {
  const r = value % space.size;
  return r < 0n ? r + space.size : r;
}

/** Clockwise distance from `from` to `to`: (to − from) mod 2^b. */
export function distance(space: IdSpace, from: Id, to: Id): bigint {
  return wrap(space, to - from);
}

/**
 * x ∈ (a, b] on the circle. (a, a] is the whole circle: a node alone on the
 * ring owns every key (Chord's convention, which Koorde reuses, §3.4).
 */
export function inHalfOpen(space: IdSpace, x: Id, a: Id, b: Id): boolean {
  if (a === b) return true;
  const dx = distance(space, a, x);
  return dx !== 0n && dx <= distance(space, a, b);
}

/** x ∈ (a, b) on the circle; (a, a) is the circle without a. */
export function inOpen(space: IdSpace, x: Id, a: Id, b: Id): boolean {
  if (a === b) return x !== a;
  const dx = distance(space, a, x);
  return dx !== 0n && dx < distance(space, a, b);
}

/** Fixed-width lower-case hex, so ids sort and line up as text. */
export function idToHex(space: IdSpace, id: Id): string {
  assert(isId(space, id), 'id lies on the circle');
  return id.toString(16).padStart(space.hexDigits, '0');
}

/** Parse hex (with or without 0x); undefined when it is not an id of this space. */
export function parseIdHex(space: IdSpace, text: string): Id | undefined {
  const digits = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,64}$/.test(digits)) return undefined;
  const value = BigInt(`0x${digits}`);
  return isId(space, value) ? value : undefined;
}

/** The top `count` bits of a b-bit id. */
export function topBits(space: IdSpace, id: Id, count: number): bigint {
  assert(count >= 0 && count <= space.bits, 'topBits count within b');
  return id >> BigInt(space.bits - count);
}

/** The de Bruijn successor of imaginary node i along digit d: k·i + d mod 2^b (§4.1). */
export function deBruijnStep(space: IdSpace, imaginary: Id, digit: bigint): Id {
  assert(digit >= 0n && digit < BigInt(space.degree), 'digit is a base-k digit');
  return wrap(space, (imaginary << BigInt(space.digitBits)) + digit);
}

/** Where m's de Bruijn window starts: the predecessor of k·m (§3.2, §4.1). */
export function deBruijnPoint(space: IdSpace, self: Id): Id {
  return wrap(space, self << BigInt(space.digitBits));
}
