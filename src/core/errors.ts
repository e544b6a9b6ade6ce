/**
 * Errors a user can meet ("can happen" failures). Each has a stable `code` that
 * clients and tests match on, and a message that says what to do next.
 * Broken invariants are not errors of this kind: they go through `assert()`.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PORT_IN_USE'
  | 'PEER_UNREACHABLE'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'UNKNOWN_METHOD'
  | 'QUEUE_FULL'
  | 'TRANSPORT_CLOSED'
  | 'REMOTE_ERROR'
  // Consensus (src/raft).
  | 'NOT_LEADER'
  | 'PROPOSAL_DROPPED'
  | 'CONF_CHANGE_PENDING'
  | 'CONF_CHANGE_INVALID'
  | 'TRANSFER_IN_PROGRESS'
  | 'OVERLOADED'
  // Membership as the KV service sees it (src/node/kv-service.ts).
  | 'MEMBER_NOT_FOUND'
  | 'MEMBER_EXISTS'
  | 'LEARNER_NOT_READY'
  | 'MEMBER_NOT_LEARNER'
  | 'NODE_REMOVED'
  | 'ALREADY_APPLIED'
  // Decoding stored or received bytes (src/core/binary.ts).
  | 'DECODE_FAILED'
  // Durable storage (src/storage): the WAL, snapshots and the KV backend.
  | 'WAL_CORRUPT'
  | 'WAL_FAILED'
  | 'WAL_CLOSED'
  | 'ENTRY_TOO_LARGE'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_MISSING'
  | 'BACKEND_MISMATCH'
  // The MVCC key-value state machine (src/kv); messages follow etcd's.
  | 'COMPACTED'
  | 'FUTURE_REV'
  | 'KEY_TOO_LARGE'
  | 'VALUE_TOO_LARGE'
  | 'TOO_MANY_OPS'
  | 'REQUEST_TOO_LARGE'
  | 'KEY_NOT_FOUND'
  | 'VALUE_PROVIDED'
  | 'LEASE_PROVIDED'
  | 'DUPLICATE_KEY'
  | 'INVALID_REQUEST'
  // The DHT (src/koorde, src/node/dht).
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'NO_ROUTE'
  | 'NOT_OWNER'
  | 'NOT_IN_RING'
  | 'TOO_LARGE'
  | 'STORE_FULL'
  // The web cache (src/cache, src/node/cache).
  | 'URL_INVALID'
  | 'ORIGIN_REFUSED'
  | 'ORIGIN_UNREACHABLE'
  | 'ORIGIN_TIMEOUT'
  | 'TOO_MANY_REDIRECTS'
  | 'NOT_CACHED'
  // The etcd-compatible API (src/api/etcd): no lease of that id exists.
  | 'LEASE_NOT_FOUND';

export class WeftError extends Error {
  override readonly name: string = 'WeftError';
  readonly code: ErrorCode;
  /** Structured context for logs and API bodies (field names, addresses, limits). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** A configuration value that cannot be used. `field` is the flag name without dashes. */
export class ConfigError extends WeftError {
  override readonly name = 'ConfigError';
  readonly field: string;

  constructor(field: string, message: string) {
    super('CONFIG_INVALID', `${field}: ${message}`, { field });
    this.field = field;
  }
}

/** This member cannot take the request; `leaderHint` is the leader it knows of, or '' for none. */
export class NotLeaderError extends WeftError {
  override readonly name = 'NotLeaderError';
  readonly leaderHint: string;

  constructor(leaderHint: string) {
    super(
      'NOT_LEADER',
      leaderHint === ''
        ? 'no leader is known right now; retry shortly (an election is probably under way)'
        : `this member is not the leader; send the request to ${leaderHint}`,
      { leaderHint },
    );
    this.leaderHint = leaderHint;
  }
}

export function isWeftError(error: unknown, code?: ErrorCode): error is WeftError {
  return error instanceof WeftError && (code === undefined || error.code === code);
}

/** Best-effort message of anything thrown, for logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
