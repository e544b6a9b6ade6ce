/**
 * The MVCC key-value data model of etcd v3 (mvccpb.KeyValue, etcdserverpb
 * Range/Put/DeleteRange/Txn/Compaction), as plain data. Keys and values are
 * bytes. Revisions are store-wide: one increment per write transaction.
 */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the last creation of this key (after a delete, a put creates it anew). */
  readonly createRevision: number;
  /** Revision of the last modification. */
  readonly modRevision: number;
  /** Number of modifications since the last creation; 1 after creation. */
  readonly version: number;
  readonly value: Uint8Array;
  /** The lease attached to the key, or 0 for none. */
  readonly lease: number;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

/**
 * `rangeEnd` absent or empty: the single key `key`. `rangeEnd` = [0]: every
 * key >= `key`. Otherwise the half-open interval [key, rangeEnd).
 */
export interface RangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  /** At most this many kvs (0 = no limit); `more` says whether some were left out. */
  readonly limit?: number;
  /** Read as of this revision (0 = the current one). */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Return keys with empty values. */
  readonly keysOnly?: boolean;
  /** Return only the count. */
  readonly countOnly?: boolean;
}

export interface RangeResponse {
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  /** Keys in the range at that revision, regardless of `limit`. */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: number;
  /** Return the previous key-value pair in the response. */
  readonly prevKv?: boolean;
  /** Keep the current value (the key must exist; `value` must be empty). */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the key must exist; `lease` must be 0). */
  readonly ignoreLease?: boolean;
}

export interface PutResponse {
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type CompareResult = 'equal' | 'greater' | 'less' | 'notEqual';

/** A txn guard. On a missing key, numeric targets compare against 0 and a value compare is false (as etcd). */
export type Compare = {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly result: CompareResult;
} & (
  | { readonly target: 'value'; readonly value: Uint8Array }
  | { readonly target: 'version' | 'create' | 'mod' | 'lease'; readonly value: number }
);

export type RequestOp =
  | { readonly type: 'range'; readonly request: RangeRequest }
  | { readonly type: 'put'; readonly request: PutRequest }
  | { readonly type: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly type: 'txn'; readonly request: TxnRequest };

export type ResponseOp =
  | { readonly type: 'range'; readonly response: RangeResponse }
  | { readonly type: 'put'; readonly response: PutResponse }
  | { readonly type: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly type: 'txn'; readonly response: TxnResponse };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  /** Revisions below this one become unreadable. */
  readonly revision: number;
}

/** A change a write produced, for watchers: etcd's mvccpb.Event. A delete's kv has only key and modRevision. */
export interface Event {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}
