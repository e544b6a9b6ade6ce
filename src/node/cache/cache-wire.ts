import type { HeaderMap } from '../../cache/freshness.ts';
import { WeftError } from '../../core/errors.ts';
import type { CacheResult } from './cache-metrics.ts';
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
  /** A body too large for one message (passed through uncached), owner to entry node in chunks: body-streams.ts. */
  body: 'cache.body',
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

interface ReplicaHead extends Omit<StoredResponse, 'body' | 'served' | 'bytes'> {
  readonly url: string;
}

export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function parseJson(payload: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new WeftError('DECODE_FAILED', `a ${what} payload is not JSON`);
  }
}

export function decodeGetRequest(payload: Uint8Array): GetRequest {
  const value = parseJson(payload, cacheMethods.get);
  const check = new Shape(value, 'cache get request');
  return {
    url: check.string('url'),
    headers: check.headers('headers'),
    hot: check.boolean('hot'),
    standIn: check.boolean('standIn'),
  };
}

export function decodePurgeRequest(payload: Uint8Array): PurgeRequest {
  const check = new Shape(parseJson(payload, cacheMethods.purge), 'cache purge request');
  return { url: check.string('url'), local: check.boolean('local') };
}

export function decodePurgeAnswer(payload: Uint8Array): PurgeAnswer {
  const check = new Shape(parseJson(payload, cacheMethods.purge), 'cache purge answer');
  return { url: check.string('url'), removed: check.count('removed'), nodes: check.count('nodes') };
}

/** An answer as it crosses: a streamed body (CacheAnswer.stream) travels on its own as `bodyStream` (body-streams.ts). */
export type WireAnswer = Omit<CacheAnswer, 'stream'> & { readonly bodyStream?: number };

export function encodeAnswer(answer: CacheAnswer, bodyStream?: number): Uint8Array {
  const { status, headers, ageSeconds, result, node, freshMs, body } = answer;
  const head = { status, headers, ageSeconds, result, node, freshMs };
  return frame(bodyStream === undefined ? head : { ...head, bodyStream }, body);
}

export function decodeAnswer(payload: Uint8Array): WireAnswer {
  const { head, body } = unframe(payload, 'cache answer');
  const check = new Shape(head, 'cache answer');
  const result = check.string('result');
  if (!cacheResults.includes(result as CacheResult))
    check.fail(`result ${JSON.stringify(result)} is not an X-Cache value`);
  return {
    status: check.status('status'),
    headers: check.headers('headers'),
    ageSeconds: check.count('ageSeconds'),
    result: result as CacheResult,
    node: check.string('node'),
    freshMs: check.count('freshMs'),
    body,
    ...(check.field('bodyStream') === undefined ? {} : { bodyStream: check.id('bodyStream') }),
  };
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
  const { head, body } = unframe(payload, 'cache replica');
  const check = new Shape(head, 'cache replica');
  const freshness = new Shape(check.field('freshness'), 'cache replica freshness');
  return {
    url: check.string('url'),
    status: check.status('status'),
    headers: check.headers('headers'),
    varyFields: check.strings('varyFields'),
    varyKey: check.string('varyKey'),
    freshness: {
      responseTimeMs: freshness.count('responseTimeMs'),
      correctedInitialAgeSeconds: freshness.count('correctedInitialAgeSeconds'),
      lifetimeSeconds: freshness.count('lifetimeSeconds'),
      staleWhileRevalidateSeconds: freshness.count('staleWhileRevalidateSeconds'),
      staleIfErrorSeconds: freshness.count('staleIfErrorSeconds'),
      mustRevalidate: freshness.boolean('mustRevalidate'),
      noCache: freshness.boolean('noCache'),
    },
    body,
  };
}

function frame(head: unknown, body: Buffer): Uint8Array {
  const json = Buffer.from(JSON.stringify(head));
  const out = Buffer.allocUnsafe(4 + json.length + body.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  body.copy(out, 4 + json.length);
  return out;
}

function unframe(payload: Uint8Array, what: string): { head: unknown; body: Buffer } {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > bytes.length) throw new WeftError('DECODE_FAILED', `a ${what} is cut short`);
  const head = parseJson(bytes.subarray(4, 4 + length), what);
  return { head, body: bytes.subarray(4 + length) };
}

const cacheResults: readonly CacheResult[] = ['HIT', 'MISS', 'REVALIDATED', 'STALE'];
/** RFC 9110 §5.1 token and §5.5 field-value (obs-text as Node reads it, one latin1 char a byte): what Node writes unchanged. */
const fieldName = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const fieldValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Checks of a payload from a peer: a peer of another version, or a broken
 * one, gets a DECODE_FAILED that names the field, never a field of the
 * wrong type deep in the cache or a header Node refuses to write.
 */
class Shape {
  private readonly record: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly what: string,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail('not an object');
    this.record = value as Record<string, unknown>;
  }

  fail(reason: string): never {
    throw new WeftError('DECODE_FAILED', `a ${this.what}: ${reason}`);
  }

  field(name: string): unknown {
    return this.record[name];
  }

  string(name: string): string {
    const value = this.record[name];
    if (typeof value !== 'string') this.fail(`${name} is not a string`);
    return value;
  }

  boolean(name: string): boolean {
    const value = this.record[name];
    if (typeof value !== 'boolean') this.fail(`${name} is not a boolean`);
    return value;
  }

  /** A finite number, not negative. */
  count(name: string): number {
    const value = this.record[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(`${name} is not a number >= 0`);
    return value;
  }

  /** A u32, as the ids of bodies sent in parts. */
  id(name: string): number {
    const value = this.record[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      this.fail(`${name} is not a u32`);
    }
    return value;
  }

  status(name: string): number {
    const value = this.record[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 599) {
      this.fail(`${name} is not an HTTP status`);
    }
    return value;
  }

  strings(name: string): string[] {
    const value = this.record[name];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      this.fail(`${name} is not a list of strings`);
    return value as string[];
  }

  headers(name: string): HeaderMap {
    const value = this.record[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(`${name} is not an object`);
    for (const [field, text] of Object.entries(value)) {
      if (!fieldName.test(field)) this.fail(`${name} has the field name ${JSON.stringify(field)}`);
      if (typeof text !== 'string' || !fieldValue.test(text)) this.fail(`${name}.${field} is not a field value`);
    }
    return value as HeaderMap;
  }
}
