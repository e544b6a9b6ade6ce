import type { HeaderMap } from '../../cache/freshness.ts';
import { WeftError } from '../../core/errors.ts';
import type { CacheAnswer } from './owner-cache.ts';
import type { StoredResponse } from './stored-response.ts';

/**
 * The web cache's peer methods and their payloads. A payload with a body is
 * framed as [u32 length of the JSON head][JSON head][body bytes], so bodies
 * cross the wire as bytes, never as JSON.
 */
export const cacheMethods = {
  /**
   * An entry node asks the owner (or, when the owner failed, a stand-in) for
   * a URL: over the message streams as cache.get.q / cache.get.a
   * (stream-calls.ts), or as a unary call when the stream's queue is full.
   */
  get: 'cache.get',
  /** Purge a URL: at the owner, everywhere it is held; with `local`, on the receiving node only. */
  purge: 'cache.purge',
  /** The owner keeps a hot URL's response on its successor too. */
  replica: 'cache.replica',
} as const;

export interface GetRequest {
  readonly url: string;
  readonly headers: HeaderMap;
  /** The entry node counts the URL as hot. */
  readonly hot: boolean;
  /** Sent to a node standing in for a failed owner: answer even if the key is not (yet) its own. */
  readonly standIn: boolean;
}

export interface PurgeRequest {
  readonly url: string;
  readonly local: boolean;
}

export interface PurgeAnswer {
  readonly url: string;
  /** Stored responses removed, over every node that held the URL. */
  readonly removed: number;
  /** Nodes that were asked and answered. */
  readonly nodes: number;
}

type AnswerHead = Omit<CacheAnswer, 'body'>;

interface ReplicaHead extends Omit<StoredResponse, 'body' | 'served' | 'bytes'> {
  readonly url: string;
}

export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

export function decodeJson<T>(payload: Uint8Array, what: string): T {
  try {
    return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')) as T;
  } catch {
    throw new WeftError('DECODE_FAILED', `a ${what} payload is not JSON`);
  }
}

export function encodeAnswer(answer: CacheAnswer): Uint8Array {
  const { body, ...head } = answer;
  return frame(head, body);
}

export function decodeAnswer(payload: Uint8Array): CacheAnswer {
  const { head, body } = unframe<AnswerHead>(payload, 'cache answer');
  return { ...head, body };
}

export function encodeReplica(url: string, response: StoredResponse): Uint8Array {
  const head: ReplicaHead = {
    url,
    status: response.status,
    headers: response.headers,
    varyFields: response.varyFields,
    varyKey: response.varyKey,
    freshness: response.freshness,
  };
  return frame(head, response.body);
}

export function decodeReplica(payload: Uint8Array): ReplicaHead & { body: Buffer } {
  const { head, body } = unframe<ReplicaHead>(payload, 'cache replica');
  return { ...head, body };
}

function frame(head: unknown, body: Buffer): Uint8Array {
  const json = Buffer.from(JSON.stringify(head));
  const out = Buffer.allocUnsafe(4 + json.length + body.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  body.copy(out, 4 + json.length);
  return out;
}

function unframe<T>(payload: Uint8Array, what: string): { head: T; body: Buffer } {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > bytes.length) throw new WeftError('DECODE_FAILED', `a ${what} is cut short`);
  const head = decodeJson<T>(bytes.subarray(4, 4 + length), what);
  return { head, body: bytes.subarray(4 + length) };
}
