import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../kv/types.ts';
import type { MemberFields, StatusFields } from '../kv/wire/cluster-wire.ts';
import type { HeaderFields } from '../kv/wire/wire-values.ts';

/**
 * What a node offers the API layer (src/api): the replicated key-value store
 * and its membership, with etcd v3's semantics. Any member serves any
 * request: a follower forwards writes and linearizable reads to the leader
 * (or uses ReadIndex), so clients never have to find the leader.
 *
 * Failures are WeftErrors with stable codes; the API maps them to gRPC
 * statuses and etcd's messages:
 * - request errors (deterministic, nothing changed): KEY_TOO_LARGE,
 *   VALUE_TOO_LARGE, TOO_MANY_OPS, REQUEST_TOO_LARGE, INVALID_REQUEST,
 *   KEY_NOT_FOUND (ignore_value / ignore_lease on a missing key),
 *   VALUE_PROVIDED, LEASE_PROVIDED, DUPLICATE_KEY, COMPACTED, FUTURE_REV;
 * - availability errors (the outcome of a write may be unknown: retry with
 *   the same requestId): NOT_LEADER (no leader right now), TIMEOUT, ABORTED,
 *   OVERLOADED, TRANSFER_IN_PROGRESS, PEER_UNREACHABLE;
 * - membership errors: CONF_CHANGE_PENDING, CONF_CHANGE_INVALID,
 *   MEMBER_NOT_FOUND, MEMBER_EXISTS, LEARNER_NOT_READY, MEMBER_NOT_LEARNER, NODE_REMOVED.
 */
/** The header every etcd response carries: cluster, member, store revision, Raft term. */
export type ResponseHeader = HeaderFields;

export type ReadConsistency = 'linearizable' | 'serializable';

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Upper bound for the whole call; TIMEOUT after it. @default 5000 */
  readonly timeoutMs?: number;
}

export interface ReadOptions extends CallOptions {
  /** 'linearizable' (the default) sees every write acknowledged before it; 'serializable' is served locally. */
  readonly consistency?: ReadConsistency;
}

export interface WriteOptions extends CallOptions {
  /** Makes a retried write apply once. A client sets the same id on every retry of one write. */
  readonly requestId?: number;
}

export interface Answer<T> {
  readonly header: ResponseHeader;
  readonly response: T;
}

export interface KvService {
  range(request: RangeRequest, options?: ReadOptions): Promise<Answer<RangeResponse>>;
  put(request: PutRequest, options?: WriteOptions): Promise<Answer<PutResponse>>;
  deleteRange(request: DeleteRangeRequest, options?: WriteOptions): Promise<Answer<DeleteRangeResponse>>;
  /** A txn whose ops are all ranges may be served as a read (with `consistency`). */
  txn(request: TxnRequest, options?: WriteOptions & ReadOptions): Promise<Answer<TxnResponse>>;
  compact(request: CompactionRequest, options?: WriteOptions): Promise<Answer<Record<string, never>>>;
}

/** A member as etcd's Cluster API shows it; the fields are documented on MemberFields. */
export type ClusterMember = MemberFields;

export interface MemberAddRequest {
  readonly peerUrls: readonly string[];
  readonly isLearner: boolean;
  /** The new member's node id; etcd clients do not send one, and then one is derived from the peer URL. */
  readonly name?: string;
}

export interface NodeStatus extends StatusFields {
  /**
   * Optional (API layer, `GET /v1/cluster`): S-Raft's successor ranking as
   * this member last heard it from the leader, rank 0 first (member ids);
   * absent under plain Raft or when not known.
   */
  readonly successorRanking?: readonly bigint[];
}

export interface ClusterService {
  members(options?: CallOptions): Promise<Answer<readonly ClusterMember[]>>;
  addMember(
    request: MemberAddRequest,
    options?: CallOptions,
  ): Promise<Answer<{ member: ClusterMember; members: readonly ClusterMember[] }>>;
  removeMember(id: bigint, options?: CallOptions): Promise<Answer<readonly ClusterMember[]>>;
  /** Fails with LEARNER_NOT_READY until the learner has caught up with the leader's log. */
  promoteMember(id: bigint, options?: CallOptions): Promise<Answer<readonly ClusterMember[]>>;
  status(options?: CallOptions): Promise<NodeStatus>;
}
