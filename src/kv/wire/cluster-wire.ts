import type { WireHeader, WireMember, WireStatusResponse } from './messages.ts';
import { headerFromWire, longToBigint, longToNumber, type HeaderFields } from './wire-values.ts';

/**
 * etcd's Member and StatusResponse between wire form and plain data, both
 * directions. src/node/kv-service.ts's ClusterMember is MemberFields and its
 * NodeStatus extends StatusFields, so the server passes them straight in.
 */
export interface MemberFields {
  /** etcd's uint64 member id: memberIdOf(name) (src/core/ids.ts). */
  readonly id: bigint;
  /** The member's weft node id (--id). */
  readonly name: string;
  /** Peer transport addresses, as "http://host:port" like etcd shows them. */
  readonly peerUrls: readonly string[];
  /** Where clients reach it (its etcd-compatible gRPC endpoint). */
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
  /**
   * false for a member added but not yet started: etcd shows it with an
   * empty name, and etcdctl lists it as "unstarted". @default true
   */
  readonly started?: boolean;
}

/** The host:port a peer URL names: "http://h:1/" and "h:1" are one member's address. */
export function peerAddressOf(url: string): string {
  return url.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export function memberToWire(member: MemberFields): WireMember {
  return {
    ID: member.id.toString(),
    name: member.started === false ? '' : member.name,
    peerURLs: [...member.peerUrls],
    clientURLs: [...member.clientUrls],
    isLearner: member.isLearner,
  };
}

export function memberFromWire(wire: WireMember): MemberFields {
  return {
    id: longToBigint(wire.ID),
    name: wire.name ?? '',
    peerUrls: wire.peerURLs ?? [],
    clientUrls: wire.clientURLs ?? [],
    isLearner: wire.isLearner ?? false,
    started: (wire.name ?? '') !== '',
  };
}

export interface StatusFields {
  readonly header: HeaderFields;
  readonly version: string;
  readonly dbSizeBytes: number;
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly isLearner: boolean;
  readonly errors: readonly string[];
}

export function statusToWire(status: StatusFields, header: WireHeader): WireStatusResponse {
  return {
    header,
    version: status.version,
    dbSize: status.dbSizeBytes,
    // weft's store has no free pages to tell apart, so all of it is in use.
    dbSizeInUse: status.dbSizeBytes,
    leader: status.leader.toString(),
    raftIndex: status.raftIndex,
    raftTerm: status.raftTerm,
    raftAppliedIndex: status.raftAppliedIndex,
    isLearner: status.isLearner,
    errors: [...status.errors],
  };
}

export function statusFromWire(wire: WireStatusResponse): StatusFields {
  return {
    header: headerFromWire(wire.header),
    version: wire.version ?? '',
    dbSizeBytes: longToNumber(wire.dbSize),
    leader: longToBigint(wire.leader),
    raftIndex: longToNumber(wire.raftIndex),
    raftTerm: longToNumber(wire.raftTerm),
    raftAppliedIndex: longToNumber(wire.raftAppliedIndex),
    isLearner: wire.isLearner ?? false,
    errors: wire.errors ?? [],
  };
}
