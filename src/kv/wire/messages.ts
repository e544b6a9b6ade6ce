/**
 * etcd v3's protobuf messages (etcdserverpb, mvccpb) as plain objects, the
 * way @grpc/proto-loader hands them over with the options of
 * `ETCD_PROTO_OPTIONS`: camelCase field names, 64-bit integers as decimal
 * strings, enums by name (a number when the name is unknown), oneofs named
 * by a virtual field, bytes as Uint8Array. Fields left off the wire stay
 * absent (no defaults filled in): etcd gives an absent range_end and an
 * empty one different meanings, so the decoder must see the difference.
 * The `fromWire` mappings read an absent field as its proto3 default.
 *
 * The server (src/api/etcd) and the client (src/client) share these shapes
 * and the pure mappings beside them (kv-wire.ts, txn-wire.ts, cluster-wire.ts).
 */
export const ETCD_PROTO_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;

/**
 * gRPC metadata weft adds to etcd's wire format (etcd ignores both):
 * `requestId` on a write, a decimal id below 2^53 that makes a retried
 * write apply once; `code` in an error's trailers, the WeftError code.
 */
/** What weft adds to etcd's wire format, in metadata etcd ignores: a write's request id, an error's code, a new member's name. */
export const WEFT_METADATA = {
  requestId: 'weft-request-id',
  code: 'weft-code',
  memberName: 'weft-member-name',
} as const;

/** An int64 or uint64: a decimal string when decoded; a number or string when encoding. */
export type WireLong = string | number;
/** An enum value: its name, or a number outside the declared names. */
export type WireEnum = string | number;

export interface WireHeader {
  clusterId?: WireLong;
  memberId?: WireLong;
  revision?: WireLong;
  raftTerm?: WireLong;
}

export interface WireKeyValue {
  key?: Uint8Array;
  createRevision?: WireLong;
  modRevision?: WireLong;
  version?: WireLong;
  value?: Uint8Array;
  lease?: WireLong;
}

export interface WireRangeRequest {
  key?: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: WireLong;
  revision?: WireLong;
  sortOrder?: WireEnum;
  sortTarget?: WireEnum;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: WireLong;
  maxModRevision?: WireLong;
  minCreateRevision?: WireLong;
  maxCreateRevision?: WireLong;
}

export interface WireRangeResponse {
  header?: WireHeader | null;
  kvs?: WireKeyValue[];
  more?: boolean;
  count?: WireLong;
}

export interface WirePutRequest {
  key?: Uint8Array;
  value?: Uint8Array;
  lease?: WireLong;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface WirePutResponse {
  header?: WireHeader | null;
  prevKv?: WireKeyValue | null;
}

export interface WireDeleteRangeRequest {
  key?: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface WireDeleteRangeResponse {
  header?: WireHeader | null;
  deleted?: WireLong;
  prevKvs?: WireKeyValue[];
}

export interface WireCompare {
  result?: WireEnum;
  target?: WireEnum;
  key?: Uint8Array;
  rangeEnd?: Uint8Array;
  version?: WireLong;
  createRevision?: WireLong;
  modRevision?: WireLong;
  value?: Uint8Array;
  lease?: WireLong;
  /** Which operand field is set (oneof target_union). */
  targetUnion?: string;
}

export interface WireRequestOp {
  requestRange?: WireRangeRequest | null;
  requestPut?: WirePutRequest | null;
  requestDeleteRange?: WireDeleteRangeRequest | null;
  requestTxn?: WireTxnRequest | null;
  /** Which member is set (oneof request); absent for an empty op. */
  request?: string;
}

export interface WireResponseOp {
  responseRange?: WireRangeResponse | null;
  responsePut?: WirePutResponse | null;
  responseDeleteRange?: WireDeleteRangeResponse | null;
  responseTxn?: WireTxnResponse | null;
  response?: string;
}

export interface WireTxnRequest {
  compare?: WireCompare[];
  success?: WireRequestOp[];
  failure?: WireRequestOp[];
}

export interface WireTxnResponse {
  header?: WireHeader | null;
  succeeded?: boolean;
  responses?: WireResponseOp[];
}

export interface WireCompactionRequest {
  revision?: WireLong;
  physical?: boolean;
}

export interface WireMember {
  ID?: WireLong;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface WireStatusResponse {
  header?: WireHeader | null;
  version?: string;
  dbSize?: WireLong;
  leader?: WireLong;
  raftIndex?: WireLong;
  raftTerm?: WireLong;
  raftAppliedIndex?: WireLong;
  errors?: string[];
  dbSizeInUse?: WireLong;
  isLearner?: boolean;
}
