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
  /** MemberAdd: the new member's node id, when the client chose one (etcd's wire format has no field for it). */
  readonly memberName?: string;
}

/**
 * The context of a call; `settled` marks it answered. grpc-js emits
 * 'cancelled' when a call's stream closes, also after a normal answer: only
 * a cancellation before the answer (the client gave up) aborts the signal.
 */
function contextOf(call: grpc.ServerUnaryCall<unknown, unknown>): { context: CallContext; settled: () => void } {
  const controller = new AbortController();
  let answered = false;
  call.once('cancelled', () => {
    if (!answered) controller.abort();
  });
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now()) : undefined;
  const requestId = requestIdOf(call.metadata);
  const memberName = call.metadata.get(WEFT_METADATA.memberName)[0];
  const context = {
    signal: controller.signal,
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(requestId !== undefined && { requestId }),
    ...(typeof memberName === 'string' && memberName !== '' && { memberName }),
  };
  return { context, settled: () => (answered = true) };
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
    let settled = (): void => {};
    const run = async (): Promise<Res> => {
      const started = contextOf(call as grpc.ServerUnaryCall<unknown, unknown>);
      settled = started.settled;
      return serve(call.request, started.context);
    };
    run().then(
      (response) => {
        settled();
        callback(null, response);
      },
      (error: unknown) => {
        settled();
        callback(toGrpcStatus(error));
      },
    );
  };
}
