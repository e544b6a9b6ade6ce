import * as grpc from '@grpc/grpc-js';
import { WeftError, type ErrorCode } from '../core/errors.ts';
import type { PeerAddress } from './transport.ts';

/**
 * Map between WeftError and gRPC status. The original code rides along in
 * metadata so a typed error thrown by a remote handler arrives typed.
 */
const codeKey = 'weft-code';

const statusOfCode: Partial<Record<ErrorCode, grpc.status>> = {
  UNKNOWN_METHOD: grpc.status.UNIMPLEMENTED,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  ABORTED: grpc.status.CANCELLED,
  PEER_UNREACHABLE: grpc.status.UNAVAILABLE,
  QUEUE_FULL: grpc.status.RESOURCE_EXHAUSTED,
  CONFIG_INVALID: grpc.status.INVALID_ARGUMENT,
};

export function grpcStatusFor(error: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (error instanceof WeftError) {
    metadata.set(codeKey, error.code);
    return { code: statusOfCode[error.code] ?? grpc.status.UNKNOWN, details: error.message, metadata };
  }
  const message = error instanceof Error ? error.message : String(error);
  metadata.set(codeKey, 'REMOTE_ERROR');
  return { code: grpc.status.UNKNOWN, details: message, metadata };
}

export function weftErrorFromGrpc(error: grpc.ServiceError | null, peer: PeerAddress, method: string): WeftError {
  if (error === null) {
    return new WeftError('REMOTE_ERROR', `peer ${peer} sent an empty reply to ${method}`, { peer });
  }
  const code = error.metadata?.get(codeKey)[0];
  if (typeof code === 'string') {
    return new WeftError(code as ErrorCode, error.details, { peer, method });
  }
  switch (error.code) {
    case grpc.status.UNAVAILABLE:
      return new WeftError('PEER_UNREACHABLE', `peer ${peer} is unreachable: ${error.details}`, { peer });
    case grpc.status.DEADLINE_EXCEEDED:
      return new WeftError('TIMEOUT', `${method} to ${peer} timed out`, { peer, method });
    case grpc.status.CANCELLED:
      return new WeftError('ABORTED', `${method} to ${peer} was aborted`, { peer, method });
    case grpc.status.UNIMPLEMENTED:
      return new WeftError('UNKNOWN_METHOD', `peer ${peer} does not serve ${method}`, { peer, method });
    default:
      return new WeftError('REMOTE_ERROR', `peer ${peer} failed ${method}: ${error.details}`, { peer, method });
  }
}
