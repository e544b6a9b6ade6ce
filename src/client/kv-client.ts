import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, isWeftError, type ErrorCode } from '../core/errors.ts';
import { memberIdOf } from '../core/ids.ts';
import { prefixEnd } from '../kv/key-range.ts';
import type {
  DeleteRangeResponse,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../kv/types.ts';
import {
  memberFromWire,
  peerAddressOf,
  statusFromWire,
  type MemberFields,
  type StatusFields,
} from '../kv/wire/cluster-wire.ts';
import * as kvWire from '../kv/wire/kv-wire.ts';
import { WEFT_METADATA, type WireHeader, type WireMember, type WireStatusResponse } from '../kv/wire/messages.ts';
import { txnRequestToWire, txnResponseFromWire } from '../kv/wire/txn-wire.ts';
import { headerFromWire, type HeaderFields } from '../kv/wire/wire-values.ts';
import { backoffMs, sleep } from './backoff.ts';
import { clientErrorOf, isRetryable, KvClientError, mayHaveApplied } from './client-errors.ts';
import { DEFAULT_CHANNEL_LIMITS, openChannel, unaryCall, type ChannelLimits, type EtcdMethod } from './etcd-channel.ts';

export { KvClientError } from './client-errors.ts';
export type Member = MemberFields;
export type Status = StatusFields;
export type Header = HeaderFields;

export interface Reply<T> {
  readonly header: Header;
  readonly response: T;
}

export interface KvClientOptions {
  /** The members' etcd-compatible gRPC endpoints, as host:port or http://host:port. */
  readonly endpoints: readonly string[];
  /** Upper bound for a whole call, retries included. @default 5000 */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, each on the next endpoint. @default 6 */
  readonly retries?: number;
  /** Back-off before the first retry; doubles up to backoffMaxMs. @default 25 */
  readonly backoffMs?: number;
  /** @default 1000 */
  readonly backoffMaxMs?: number;
  readonly channelLimits?: ChannelLimits;
  /** Told of each failed attempt the client is about to retry, and after how long (for logs and benches). */
  readonly onRetry?: (failure: KvClientError, waitMs: number) => void;
}

/** How one call's attempts are made. */
interface Attempts {
  /** A KV write: it carries a request id, the same on every attempt, so weft applies it once. */
  readonly write?: boolean;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** Collects each failure the call was retried after. */
  readonly retriedAfter?: KvClientError[];
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  readonly timeoutMs?: number;
}

export interface ReadCallOptions extends CallOptions {
  /** @default 'linearizable' */
  readonly consistency?: 'linearizable' | 'serializable';
}

/**
 * A client of the etcd v3 gRPC API (weft or a real etcd). One channel per
 * endpoint; calls stick to one endpoint and move to the next when it fails
 * with an availability error (unreachable, no leader, leader changed,
 * timed out, busy), backing off between attempts. Every write carries a
 * request id in metadata, the same on each retry: weft applies it once; a
 * real etcd ignores it, so there a retried write may apply twice.
 */
export class KvClient {
  private readonly endpoints: readonly string[];
  private readonly channels: grpc.Client[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly onRetry: KvClientOptions['onRetry'];
  private current = 0;

  constructor(options: KvClientOptions) {
    this.endpoints = options.endpoints.map(parseEndpoint);
    if (this.endpoints.length === 0) throw new ConfigError('endpoints', 'give at least one endpoint (host:port)');
    this.channels = this.endpoints.map((endpoint) =>
      openChannel(endpoint, options.channelLimits ?? DEFAULT_CHANNEL_LIMITS),
    );
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 6;
    this.baseBackoffMs = options.backoffMs ?? 25;
    this.maxBackoffMs = options.backoffMaxMs ?? 1000;
    this.onRetry = options.onRetry;
  }

  /** One key, or with `prefix` every key starting with it. */
  async get(
    key: string | Uint8Array,
    options: ReadCallOptions & { prefix?: boolean; revision?: number; limit?: number } = {},
  ): Promise<Reply<RangeResponse>> {
    const request: RangeRequest = {
      ...keyRange(toBytes(key), options.prefix === true),
      ...(options.revision !== undefined && { revision: options.revision }),
      ...(options.limit !== undefined && { limit: options.limit }),
    };
    return this.range(request, options);
  }

  async range(request: RangeRequest, options: ReadCallOptions = {}): Promise<Reply<RangeResponse>> {
    const wire = kvWire.rangeRequestToWire(request, options.consistency === 'serializable');
    return this.reply('KV.Range', wire, options, {}, kvWire.rangeResponseFromWire);
  }

  async put(
    key: string | Uint8Array,
    value: string | Uint8Array,
    options: CallOptions & { prevKv?: boolean } = {},
  ): Promise<Reply<PutResponse>> {
    const wire = kvWire.putRequestToWire({ key: toBytes(key), value: toBytes(value), prevKv: options.prevKv ?? false });
    return this.reply('KV.Put', wire, options, { write: true }, kvWire.putResponseFromWire);
  }

  /** One key, or with `prefix` every key starting with it. */
  async delete(
    key: string | Uint8Array,
    options: CallOptions & { prefix?: boolean; prevKv?: boolean } = {},
  ): Promise<Reply<DeleteRangeResponse>> {
    const wire = kvWire.deleteRequestToWire({
      ...keyRange(toBytes(key), options.prefix === true),
      prevKv: options.prevKv ?? false,
    });
    return this.reply('KV.DeleteRange', wire, options, { write: true }, kvWire.deleteResponseFromWire);
  }

  /** A txn of ranges only is a read: `consistency` applies to it (etcd serves it serializable when every range is). */
  async txn(request: TxnRequest, options: ReadCallOptions = {}): Promise<Reply<TxnResponse>> {
    const wire = txnRequestToWire(request, options.consistency === 'serializable');
    return this.reply('KV.Txn', wire, options, { write: hasWrites(request) }, txnResponseFromWire);
  }

  async compact(revision: number, options: CallOptions & { physical?: boolean } = {}): Promise<Reply<object>> {
    const request = { revision, physical: options.physical ?? false };
    return this.reply('KV.Compact', request, options, { write: true }, () => ({}));
  }

  async memberList(options: CallOptions = {}): Promise<Reply<readonly Member[]>> {
    return this.reply(
      'Cluster.MemberList',
      {},
      options,
      {},
      (wire: { header?: WireHeader | null; members?: WireMember[] }) => (wire.members ?? []).map(memberFromWire),
    );
  }

  /**
   * Add a member (as a learner with `learner`). `name` is its weft node id;
   * without one, weft names it after its peer address (m-…), as an
   * etcdctl-added member would be named.
   */
  async memberAdd(
    peerUrl: string,
    options: CallOptions & { learner?: boolean; name?: string } = {},
  ): Promise<Reply<{ member: Member; members: readonly Member[] }>> {
    const { name } = options;
    const learner = options.learner ?? false;
    const address = peerAddressOf(peerUrl);
    return this.memberChange('Cluster.MemberAdd', { peerURLs: [peerUrl], isLearner: learner }, options, {
      decode: (wire: { header?: WireHeader | null; member?: WireMember | null; members?: WireMember[] }) => ({
        member: memberFromWire(wire.member ?? {}),
        members: (wire.members ?? []).map(memberFromWire),
      }),
      refusal: 'MEMBER_EXISTS',
      made: (members) => {
        // A member not started yet is listed without its name; its id is still the hash of the name.
        const member = members.find(
          (m) =>
            m.peerUrls.some((url) => peerAddressOf(url) === address) &&
            m.isLearner === learner &&
            (name === undefined || m.id === memberIdOf(name)),
        );
        return member === undefined ? undefined : { member, members };
      },
      ...(name !== undefined && { metadata: { [WEFT_METADATA.memberName]: name } }),
    });
  }

  async memberRemove(id: bigint, options: CallOptions = {}): Promise<Reply<readonly Member[]>> {
    return this.memberChange('Cluster.MemberRemove', { ID: id.toString() }, options, {
      decode: membersOf,
      refusal: 'MEMBER_NOT_FOUND',
      made: (members) => (members.some((m) => m.id === id) ? undefined : members),
    });
  }

  async memberPromote(id: bigint, options: CallOptions = {}): Promise<Reply<readonly Member[]>> {
    return this.memberChange('Cluster.MemberPromote', { ID: id.toString() }, options, {
      decode: membersOf,
      refusal: 'MEMBER_NOT_LEARNER',
      made: (members) => (members.some((m) => m.id === id && !m.isLearner) ? members : undefined),
    });
  }

  /** The status of the member the client is talking to. */
  async status(options: CallOptions = {}): Promise<Status> {
    return statusFromWire(await this.call<WireStatusResponse>('Maintenance.Status', {}, options, {}));
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }

  private async reply<W extends { header?: WireHeader | null }, T>(
    method: EtcdMethod,
    request: object,
    options: CallOptions,
    how: Attempts,
    decode: (wire: W) => T,
  ): Promise<Reply<T>> {
    const wire = await this.call<W>(method, request, options, how);
    return { header: headerFromWire(wire.header), response: decode(wire) };
  }

  /**
   * A membership change. These carry no request id (etcd's have none), so
   * when an attempt's answer is lost and the retry is refused for what that
   * attempt did (a remove finds no such member, a promote finds a voter, an
   * add finds the member there), the member list decides: if it shows the
   * change made, the call succeeded. Only after a failure that leaves the
   * outcome unknown: a refusal after a plain one (no leader) is the answer.
   */
  private async memberChange<W extends { header?: WireHeader | null }, T>(
    method: EtcdMethod,
    request: object,
    options: CallOptions,
    change: {
      readonly decode: (wire: W) => T;
      /** What the retry says when the change was already made. */
      readonly refusal: ErrorCode;
      /** The call's result if `members` shows the change made, else undefined. */
      readonly made: (members: readonly Member[]) => T | undefined;
      readonly metadata?: Readonly<Record<string, string>>;
    },
  ): Promise<Reply<T>> {
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    const retriedAfter: KvClientError[] = [];
    try {
      return await this.reply(method, request, options, { metadata: change.metadata, retriedAfter }, change.decode);
    } catch (error) {
      if (!isWeftError(error, change.refusal) || !retriedAfter.some(mayHaveApplied)) throw error;
      // Within the call's own time bound, as every call.
      const list = await this.memberList({ ...options, timeoutMs: Math.max(1, deadline - Date.now()) });
      const made = change.made(list.response);
      if (made === undefined) throw error;
      return { header: list.header, response: made };
    }
  }

  /**
   * One call with retries: on a retryable failure move to the next endpoint
   * and back off; stop at the retry budget, the deadline or an abort.
   */
  private async call<W>(method: EtcdMethod, request: object, options: CallOptions, how: Attempts): Promise<W> {
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    const metadata = new grpc.Metadata();
    if (how.write === true) metadata.set(WEFT_METADATA.requestId, String(newRequestId()));
    for (const [key, value] of Object.entries(how.metadata ?? {})) metadata.set(key, value);
    const signal = options.signal;
    for (let attempt = 0; ; attempt += 1) {
      const index = this.current;
      const endpoint = this.endpoints[index]!;
      try {
        if (signal?.aborted === true) throw abortError(method, endpoint);
        return await unaryCall<W>(this.channels[index]!, method, request, {
          deadline,
          metadata,
          ...(signal && { signal }),
        });
      } catch (error) {
        if (signal?.aborted === true) throw abortError(method, endpoint);
        const failure = clientErrorOf(error, endpoint);
        if (!isRetryable(failure) || attempt >= this.retries || Date.now() >= deadline) throw failure;
        // Concurrent calls that failed on the same endpoint move the client on once, not once each.
        if (this.current === index) this.current = (index + 1) % this.endpoints.length;
        const waitMs = Math.min(backoffMs(attempt + 1, this.baseBackoffMs, this.maxBackoffMs), deadline - Date.now());
        how.retriedAfter?.push(failure);
        this.onRetry?.(failure, Math.max(0, waitMs));
        await sleep(Math.max(0, waitMs), signal).catch(() => {
          throw abortError(method, endpoint);
        });
      }
    }
  }
}

/** A call its caller aborted: never retried, unlike a server's ABORTED (a proposal dropped by a leader change). */
function abortError(method: EtcdMethod, endpoint: string): KvClientError {
  return new KvClientError('ABORTED', `${method} was aborted by the caller`, undefined, endpoint);
}

function parseEndpoint(endpoint: string): string {
  const trimmed = endpoint
    .trim()
    .replace(/^http:\/\//, '')
    .replace(/\/$/, '');
  if (!/^[^/:]+:\d+$/.test(trimmed) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(trimmed)) {
    throw new ConfigError(
      'endpoints',
      `${JSON.stringify(endpoint)} is not host:port or http://host:port (TLS is not supported)`,
    );
  }
  return trimmed;
}

function toBytes(text: string | Uint8Array): Uint8Array {
  return typeof text === 'string' ? new TextEncoder().encode(text) : text;
}

/** A key, or every key with that prefix; the empty prefix is every key (etcd's "\0" to "\0"). */
function keyRange(key: Uint8Array, prefix: boolean): { key: Uint8Array; rangeEnd?: Uint8Array } {
  if (!prefix) return { key };
  if (key.length === 0) return { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };
  return { key, rangeEnd: prefixEnd(key) };
}

function hasWrites(request: TxnRequest): boolean {
  return [...request.success, ...request.failure].some(
    (op) => op.type !== 'range' && (op.type !== 'txn' || hasWrites(op.request)),
  );
}

/** A random non-zero id below 2^53 (what the server's metadata parser and the store's varint take). */
function newRequestId(): number {
  const bytes = randomBytes(7);
  const id = (bytes.readUIntBE(0, 6) * 32 + (bytes[6]! & 31)) % Number.MAX_SAFE_INTEGER;
  return id === 0 ? 1 : id;
}

function membersOf(wire: { header?: WireHeader | null; members?: WireMember[] }): readonly Member[] {
  return (wire.members ?? []).map(memberFromWire);
}
