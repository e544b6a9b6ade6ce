import type * as grpc from '@grpc/grpc-js';
import { CODE_OF_ETCD_MESSAGE, GrpcStatus } from '../core/etcd-errors.ts';
import { WeftError, type ErrorCode } from '../core/errors.ts';
import { WEFT_METADATA } from '../kv/wire/messages.ts';

/** A failed KvClient call: a stable weft `code`, the gRPC status, and the endpoint that answered last. */
export class KvClientError extends WeftError {
  override readonly name = 'KvClientError';

  constructor(
    code: ErrorCode,
    message: string,
    readonly grpcStatus: number | undefined,
    readonly endpoint: string,
  ) {
    super(code, message, { grpcStatus, endpoint });
  }
}

/**
 * The weft code of a gRPC failure: what a weft server says in metadata;
 * else what etcd's exact message means; else what the status means
 * (a refused connection is UNAVAILABLE with no message of etcd's).
 */
export function clientErrorOf(error: unknown, endpoint: string): KvClientError {
  if (!isServiceError(error)) {
    // Thrown before anything was sent, e.g. a request the encoder rejects.
    return new KvClientError('INVALID_REQUEST', `${endpoint}: ${String(error)}`, undefined, endpoint);
  }
  const sent = error.metadata?.get(WEFT_METADATA.code)[0];
  const code =
    typeof sent === 'string' ? (sent as ErrorCode) : (CODE_OF_ETCD_MESSAGE.get(error.details) ?? codeOfStatus(error));
  return new KvClientError(code, `${endpoint}: ${error.details}`, error.code, endpoint);
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number';
}

function codeOfStatus(error: grpc.ServiceError): ErrorCode {
  switch (error.code) {
    case GrpcStatus.UNAVAILABLE:
      return 'PEER_UNREACHABLE';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'TIMEOUT';
    case GrpcStatus.CANCELLED:
      return 'ABORTED';
    case GrpcStatus.UNIMPLEMENTED:
      return 'UNKNOWN_METHOD';
    case GrpcStatus.INVALID_ARGUMENT:
      return 'INVALID_REQUEST';
    case GrpcStatus.RESOURCE_EXHAUSTED:
      // gRPC's own size checks ("... size larger than 2097152", "... larger than max ...") vs. a busy server.
      return /larger than/i.test(error.details) ? 'REQUEST_TOO_LARGE' : 'OVERLOADED';
    default:
      return 'REMOTE_ERROR';
  }
}

/**
 * Failures another attempt may cure: the endpoint is down or has no leader,
 * the leader changed, the cluster is busy. A write is retried with the same
 * request id, so on weft it applies once.
 */
const retryableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PEER_UNREACHABLE',
  'NOT_LEADER',
  'PROPOSAL_DROPPED',
  'ABORTED',
  'TRANSFER_IN_PROGRESS',
  'TIMEOUT',
  'OVERLOADED',
  'CONF_CHANGE_PENDING',
  'NODE_REMOVED',
  'TRANSPORT_CLOSED',
]);

export function isRetryable(error: KvClientError): boolean {
  return retryableCodes.has(error.code);
}

/** Retryable failures that say the request was refused, not applied: another member must take it. */
const refusedCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_LEADER',
  'TRANSFER_IN_PROGRESS',
  'OVERLOADED',
  'CONF_CHANGE_PENDING',
]);

/**
 * Whether the request an attempt failed with may still have been applied:
 * its answer was lost (timeout, dropped connection), or its member went away
 * or lost leadership after taking it (etcd's "leader changed" is such a case).
 */
export function mayHaveApplied(error: KvClientError): boolean {
  return !refusedCodes.has(error.code);
}
