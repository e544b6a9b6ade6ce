import * as grpc from '@grpc/grpc-js';
import { ETCD_ERROR_OF_CODE, GrpcStatus, OWN_MESSAGE_STATUS } from '../../core/etcd-errors.ts';
import { WeftError } from '../../core/errors.ts';
import { WEFT_METADATA } from '../../kv/wire/messages.ts';

/**
 * A failure as the gRPC status an etcd client expects: etcd's status code
 * and exact message where etcd has the error (ETCD_ERROR_OF_CODE), else the
 * WeftError's own message. The weft code always rides along in trailing
 * metadata, so the weft client keeps the precise cause (KEY_TOO_LARGE
 * where etcd only says "request is too large").
 */
export function toGrpcStatus(error: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (!(error instanceof WeftError)) {
    metadata.set(WEFT_METADATA.code, 'REMOTE_ERROR');
    const message = error instanceof Error ? error.message : String(error);
    return { code: grpc.status.INTERNAL, details: `weft: internal error: ${message}`, metadata };
  }
  metadata.set(WEFT_METADATA.code, error.code);
  const etcd = ETCD_ERROR_OF_CODE[error.code];
  if (etcd !== undefined) return { code: etcd.status, details: etcd.message, metadata };
  return { code: OWN_MESSAGE_STATUS[error.code] ?? GrpcStatus.UNKNOWN, details: error.message, metadata };
}
