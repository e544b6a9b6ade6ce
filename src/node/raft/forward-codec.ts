import { WeftError, type ErrorCode } from '../../core/errors.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';

/**
 * Results of writes forwarded from a follower to the leader travel as JSON,
 * with byte strings as base64 ({"$b": "..."}). Forwarding is the slower
 * path (clients that reach the leader skip it), so clarity wins over size.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type ForwardReply =
  { readonly result: ApplyResult | undefined } | { readonly error: { code: ErrorCode; message: string } };

export function encodeReply(reply: ForwardReply): Uint8Array {
  return encoder.encode(
    JSON.stringify(reply, (_key, value: unknown) => {
      if (value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
      // A deterministic apply error inside the result keeps its code and message.
      if (value instanceof WeftError) return { $e: { code: value.code, message: value.message } };
      return value;
    }),
  );
}

export function decodeReply(bytes: Uint8Array): ForwardReply {
  return JSON.parse(decoder.decode(bytes), (_key, value: unknown) => {
    if (value === null || typeof value !== 'object') return value;
    if ('$b' in value && typeof value.$b === 'string') return new Uint8Array(Buffer.from(value.$b, 'base64'));
    if ('$e' in value) {
      const error = value.$e as { code: ErrorCode; message: string };
      return new WeftError(error.code, error.message);
    }
    return value;
  }) as ForwardReply;
}

/** A failure as it crosses the wire: typed errors keep their code. */
export function errorReply(error: unknown): ForwardReply {
  if (error instanceof WeftError) return { error: { code: error.code, message: error.message } };
  return { error: { code: 'REMOTE_ERROR', message: error instanceof Error ? error.message : String(error) } };
}

/** The result of a reply, or its error rethrown as a WeftError. */
export function unwrapReply(reply: ForwardReply): ApplyResult | undefined {
  if ('error' in reply) throw new WeftError(reply.error.code, reply.error.message);
  return reply.result;
}
