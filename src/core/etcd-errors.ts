import type { ErrorCode } from './errors.ts';

/**
 * etcd v3's errors as its clients see them: a gRPC status code and an exact
 * message (etcd's rpctypes; clientv3 recognises an error by its message, so
 * the text must match to the letter). The weft server sends these for its
 * WeftError codes; the weft client reads them back into codes when talking
 * to a real etcd (a weft server also sends its code in metadata).
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export interface EtcdError {
  readonly status: GrpcStatus;
  readonly message: string;
}

function etcdError(status: GrpcStatus, message: string): EtcdError {
  return { status, message: `etcdserver: ${message}` };
}

const { INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, OUT_OF_RANGE, UNAVAILABLE } = GrpcStatus;

export const ETCD_ERRORS = {
  emptyKey: etcdError(INVALID_ARGUMENT, 'key is not provided'),
  keyNotFound: etcdError(INVALID_ARGUMENT, 'key not found'),
  valueProvided: etcdError(INVALID_ARGUMENT, 'value is provided'),
  leaseProvided: etcdError(INVALID_ARGUMENT, 'lease is provided'),
  tooManyOps: etcdError(INVALID_ARGUMENT, 'too many operations in txn request'),
  duplicateKey: etcdError(INVALID_ARGUMENT, 'duplicate key given in txn request'),
  compacted: etcdError(OUT_OF_RANGE, 'mvcc: required revision has been compacted'),
  futureRev: etcdError(OUT_OF_RANGE, 'mvcc: required revision is a future revision'),
  leaseNotFound: etcdError(NOT_FOUND, 'requested lease not found'),
  memberExists: etcdError(FAILED_PRECONDITION, 'member ID already exist'),
  peerUrlExists: etcdError(FAILED_PRECONDITION, 'Peer URLs already exists'),
  memberBadUrls: etcdError(INVALID_ARGUMENT, 'given member URLs are invalid'),
  memberNotFound: etcdError(NOT_FOUND, 'member not found'),
  memberNotLearner: etcdError(FAILED_PRECONDITION, 'can only promote a learner member'),
  learnerNotReady: etcdError(FAILED_PRECONDITION, 'can only promote a learner member which is in sync with leader'),
  requestTooLarge: etcdError(INVALID_ARGUMENT, 'request is too large'),
  tooManyRequests: etcdError(RESOURCE_EXHAUSTED, 'too many requests'),
  noLeader: etcdError(UNAVAILABLE, 'no leader'),
  notLeader: etcdError(FAILED_PRECONDITION, 'not leader'),
  leaderChanged: etcdError(UNAVAILABLE, 'leader changed'),
  stopped: etcdError(UNAVAILABLE, 'server stopped'),
  timeout: etcdError(UNAVAILABLE, 'request timed out'),
  timeoutLeaderFail: etcdError(UNAVAILABLE, 'request timed out, possibly due to previous leader failure'),
  timeoutConnectionLost: etcdError(UNAVAILABLE, 'request timed out, possibly due to connection lost'),
  timeoutAppliedIndex: etcdError(UNAVAILABLE, 'request timed out, waiting for the applied index took too long'),
  unhealthy: etcdError(UNAVAILABLE, 'unhealthy cluster'),
} as const;

/**
 * What the server sends for a weft code. Codes absent here keep their own
 * message, with the status of `OWN_MESSAGE_STATUS` (or UNKNOWN).
 * KEY_TOO_LARGE and VALUE_TOO_LARGE: etcd has no per-field limit and
 * rejects any oversized request with "request is too large".
 */
export const ETCD_ERROR_OF_CODE: Partial<Record<ErrorCode, EtcdError>> = {
  KEY_NOT_FOUND: ETCD_ERRORS.keyNotFound,
  VALUE_PROVIDED: ETCD_ERRORS.valueProvided,
  LEASE_PROVIDED: ETCD_ERRORS.leaseProvided,
  TOO_MANY_OPS: ETCD_ERRORS.tooManyOps,
  DUPLICATE_KEY: ETCD_ERRORS.duplicateKey,
  COMPACTED: ETCD_ERRORS.compacted,
  FUTURE_REV: ETCD_ERRORS.futureRev,
  LEASE_NOT_FOUND: ETCD_ERRORS.leaseNotFound,
  REQUEST_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  KEY_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  VALUE_TOO_LARGE: ETCD_ERRORS.requestTooLarge,
  MEMBER_EXISTS: ETCD_ERRORS.peerUrlExists,
  MEMBER_NOT_FOUND: ETCD_ERRORS.memberNotFound,
  LEARNER_NOT_READY: ETCD_ERRORS.learnerNotReady,
  MEMBER_NOT_LEARNER: ETCD_ERRORS.memberNotLearner,
  OVERLOADED: ETCD_ERRORS.tooManyRequests,
  NOT_LEADER: ETCD_ERRORS.noLeader,
  PROPOSAL_DROPPED: ETCD_ERRORS.leaderChanged,
  ABORTED: ETCD_ERRORS.leaderChanged,
  TRANSFER_IN_PROGRESS: ETCD_ERRORS.leaderChanged,
  TIMEOUT: ETCD_ERRORS.timeout,
  PEER_UNREACHABLE: ETCD_ERRORS.timeoutConnectionLost,
  NODE_REMOVED: ETCD_ERRORS.stopped,
  TRANSPORT_CLOSED: ETCD_ERRORS.stopped,
};

/** The status of each code sent with its own message (etcd has no such error). */
export const OWN_MESSAGE_STATUS: Partial<Record<ErrorCode, GrpcStatus>> = {
  INVALID_REQUEST: INVALID_ARGUMENT,
  DECODE_FAILED: INVALID_ARGUMENT,
  CONF_CHANGE_INVALID: FAILED_PRECONDITION,
  // A retried write whose first copy applied, when its result was not kept (etcd has no request ids).
  ALREADY_APPLIED: FAILED_PRECONDITION,
  CONF_CHANGE_PENDING: UNAVAILABLE,
  UNKNOWN_METHOD: GrpcStatus.UNIMPLEMENTED,
};

const codeOfEtcdError: readonly (readonly [EtcdError, ErrorCode])[] = [
  [ETCD_ERRORS.emptyKey, 'INVALID_REQUEST'],
  [ETCD_ERRORS.memberBadUrls, 'INVALID_REQUEST'],
  [ETCD_ERRORS.keyNotFound, 'KEY_NOT_FOUND'],
  [ETCD_ERRORS.valueProvided, 'VALUE_PROVIDED'],
  [ETCD_ERRORS.leaseProvided, 'LEASE_PROVIDED'],
  [ETCD_ERRORS.tooManyOps, 'TOO_MANY_OPS'],
  [ETCD_ERRORS.duplicateKey, 'DUPLICATE_KEY'],
  [ETCD_ERRORS.compacted, 'COMPACTED'],
  [ETCD_ERRORS.futureRev, 'FUTURE_REV'],
  [ETCD_ERRORS.leaseNotFound, 'LEASE_NOT_FOUND'],
  [ETCD_ERRORS.memberExists, 'MEMBER_EXISTS'],
  [ETCD_ERRORS.peerUrlExists, 'MEMBER_EXISTS'],
  [ETCD_ERRORS.memberNotFound, 'MEMBER_NOT_FOUND'],
  [ETCD_ERRORS.memberNotLearner, 'MEMBER_NOT_LEARNER'],
  [ETCD_ERRORS.learnerNotReady, 'LEARNER_NOT_READY'],
  [ETCD_ERRORS.requestTooLarge, 'REQUEST_TOO_LARGE'],
  [ETCD_ERRORS.tooManyRequests, 'OVERLOADED'],
  [ETCD_ERRORS.noLeader, 'NOT_LEADER'],
  [ETCD_ERRORS.notLeader, 'NOT_LEADER'],
  [ETCD_ERRORS.leaderChanged, 'PROPOSAL_DROPPED'],
  [ETCD_ERRORS.stopped, 'PEER_UNREACHABLE'],
  [ETCD_ERRORS.timeout, 'TIMEOUT'],
  [ETCD_ERRORS.timeoutLeaderFail, 'TIMEOUT'],
  [ETCD_ERRORS.timeoutConnectionLost, 'TIMEOUT'],
  [ETCD_ERRORS.timeoutAppliedIndex, 'TIMEOUT'],
  [ETCD_ERRORS.unhealthy, 'PEER_UNREACHABLE'],
];

/** How a client reads etcd's messages back into weft codes (what a real etcd sends). */
export const CODE_OF_ETCD_MESSAGE: ReadonlyMap<string, ErrorCode> = new Map(
  codeOfEtcdError.map(([error, code]) => [error.message, code]),
);
