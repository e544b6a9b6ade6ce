import type * as grpc from '@grpc/grpc-js';
import { WeftError } from '../../core/errors.ts';
import { WEFT_METADATA } from '../../kv/wire/messages.ts';
import type { ReadConsistency, ReadOptions, WriteOptions } from '../../node/kv-service.ts';
import { toGrpcStatus } from './grpc-status.ts';

/** What a call brings besides its message: cancellation, the caller's deadline and a request id. */
export interface CallContext {
  readonly signal: AbortSignal;
  readonly timeoutMs?: number;
  readonly requestId?: number;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

function contextOf(call: AnyCall): CallContext {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort());
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now()) : undefined;
  const requestId = requestIdOf(call.metadata);
  return {
    signal: controller.signal,
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(requestId !== undefined && { requestId }),
  };
}

function requestIdOf(metadata: grpc.Metadata): number | undefined {
  const value = metadata.get(WEFT_METADATA.requestId)[0];
  if (value === undefined) return undefined;
  const id = Number(value);
  if (typeof value !== 'string' || !/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(id)) {
    throw new WeftError(
      'INVALID_REQUEST',
      `${WEFT_METADATA.requestId} metadata must be a positive integer below 2^53, not ${JSON.stringify(String(value))}`,
    );
  }
  return id;
}

export function readOptions(context: CallContext, serializable: boolean): ReadOptions {
  const consistency: ReadConsistency = serializable ? 'serializable' : 'linearizable';
  return {
    signal: context.signal,
    consistency,
    ...(context.timeoutMs !== undefined && { timeoutMs: context.timeoutMs }),
  };
}

export function writeOptions(context: CallContext): WriteOptions {
  return {
    signal: context.signal,
    ...(context.timeoutMs !== undefined && { timeoutMs: context.timeoutMs }),
    ...(context.requestId !== undefined && { requestId: context.requestId }),
  };
}

/** A unary gRPC handler from an async function; every failure becomes the status etcd clients expect. */
export function unary<Req, Res>(
  serve: (request: Req, context: CallContext) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const run = async (): Promise<Res> => serve(call.request, contextOf(call as AnyCall));
    run().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error)),
    );
  };
}
