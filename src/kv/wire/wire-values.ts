import { WeftError } from '../../core/errors.ts';
import type { WireEnum, WireHeader, WireLong } from './messages.ts';

const maxSafe = Number.MAX_SAFE_INTEGER;

/**
 * A wire int64 as a number. Values beyond 2^53 are clamped: for the fields
 * read this way (revisions, limits, counts) such a value already means "no
 * bound" or "in the future", and the clamped value keeps that meaning.
 */
export function longToNumber(value: WireLong | undefined): number {
  if (value === undefined) return 0;
  const number = Number(value);
  if (Number.isNaN(number)) throw new WeftError('INVALID_REQUEST', `${String(value)} is not an integer`);
  return Math.max(-maxSafe, Math.min(maxSafe, number));
}

/** A wire uint64 (member and cluster ids) without loss. */
export function longToBigint(value: WireLong | undefined): bigint {
  return BigInt(value ?? 0);
}

export function bytesOf(value: Uint8Array | undefined): Uint8Array {
  return value ?? new Uint8Array(0);
}

/** A received range_end: absent is the key alone (empty); present but empty is every key from it ([0]), as etcd reads it. */
export function rangeEndFromWire(rangeEnd: Uint8Array | undefined): Uint8Array {
  if (rangeEnd === undefined) return new Uint8Array(0);
  return rangeEnd.length === 0 ? new Uint8Array([0]) : rangeEnd;
}

/**
 * A range_end to send: left off when empty. proto3 senders leave empty
 * fields off the wire, and etcd relies on it: it reads an absent range_end
 * as "this key alone" but a present, empty one as "every key from this one".
 */
export function rangeEndField(rangeEnd: Uint8Array | undefined): { rangeEnd?: Uint8Array } {
  return rangeEnd !== undefined && rangeEnd.length > 0 ? { rangeEnd } : {};
}

/** Maps one protobuf enum (whose numbers are 0..n-1 in declaration order) to weft's string union. */
export class WireEnumMap<T extends string> {
  constructor(
    private readonly field: string,
    private readonly wireNames: readonly string[],
    private readonly values: readonly T[],
  ) {}

  fromWire(wire: WireEnum | undefined): T {
    const index = typeof wire === 'number' ? wire : this.wireNames.indexOf(wire ?? this.wireNames[0]!);
    const value = this.values[index];
    if (value === undefined) {
      throw new WeftError(
        'INVALID_REQUEST',
        `${this.field} ${String(wire)} is not one of ${this.wireNames.join(', ')}; use a value the etcd v3 API defines`,
      );
    }
    return value;
  }

  toWire(value: T): string {
    return this.wireNames[this.values.indexOf(value)]!;
  }
}

/** etcd's etcdserverpb.ResponseHeader: who answered, and the store revision and Raft term it answered at. */
export interface HeaderFields {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The store revision the response reflects. */
  readonly revision: number;
  readonly raftTerm: number;
}

export function headerToWire(header: HeaderFields): WireHeader {
  return {
    clusterId: header.clusterId.toString(),
    memberId: header.memberId.toString(),
    revision: header.revision,
    raftTerm: header.raftTerm,
  };
}

export function headerFromWire(header: WireHeader | null | undefined): HeaderFields {
  return {
    clusterId: longToBigint(header?.clusterId),
    memberId: longToBigint(header?.memberId),
    revision: longToNumber(header?.revision),
    raftTerm: longToNumber(header?.raftTerm),
  };
}
