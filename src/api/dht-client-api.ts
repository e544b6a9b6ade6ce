import { WeftError } from '../core/errors.ts';
import { parseIdHex } from '../koorde/id-space.ts';
import type { Dht, MemberView, RoutingTableView } from '../node/dht/dht.ts';
import type { LookupResult } from '../node/dht/dht-member.ts';

/**
 * The DHT client API, shared by the HTTP routes (/v1/dht/...) and the gRPC
 * client methods (dht.client.*): plain JSON answers, each with the time the
 * node spent on it.
 */
export interface RouteFacts {
  /** Find-successor requests answered on the way to the owner. */
  readonly hops: number;
  /** Failed requests that were retried elsewhere. */
  readonly retries: number;
  readonly latencyMs: number;
}

export interface PutAnswer extends RouteFacts {
  readonly key: string;
  readonly id: string;
  readonly owner: MemberView;
  readonly version: number;
  readonly replicas: number;
}

export interface GetAnswer extends RouteFacts {
  readonly key: string;
  readonly id: string;
  readonly value: string;
  readonly owner: MemberView;
  readonly version: number;
}

export interface DeleteAnswer extends RouteFacts {
  readonly key: string;
  readonly id: string;
  readonly deleted: true;
  readonly owner: MemberView;
}

export interface LookupAnswer extends RouteFacts {
  readonly id: string;
  /** Requests that asked a named owner to confirm (usually one). */
  readonly confirmations: number;
  readonly owner: MemberView;
  /** The owner's successors: where the key's copies live. */
  readonly successors: readonly MemberView[];
}

export type DhtClient = ReturnType<typeof dhtClient>;

export function dhtClient(dht: Dht) {
  const hex = (id: bigint): string => dht.view({ id, address: '' }).id;
  const facts = (lookup: LookupResult, startedMs: number): RouteFacts => ({
    hops: lookup.hops,
    retries: lookup.retries,
    latencyMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
  });
  return {
    async put(key: string, value: string): Promise<PutAnswer> {
      checkKey(key);
      const started = performance.now();
      const r = await dht.put(key, value);
      const base = { key, id: hex(r.id), owner: dht.view(r.owner), version: r.version, replicas: r.replicas };
      return { ...base, ...facts(r.lookup, started) };
    },
    async get(key: string): Promise<GetAnswer> {
      checkKey(key);
      const started = performance.now();
      const r = await dht.get(key);
      const base = { key, id: hex(r.item.id), value: r.item.value, owner: dht.view(r.owner), version: r.item.version };
      return { ...base, ...facts(r.lookup, started) };
    },
    async delete(key: string): Promise<DeleteAnswer> {
      checkKey(key);
      const started = performance.now();
      const r = await dht.delete(key);
      return { key, id: hex(r.id), deleted: true, owner: dht.view(r.owner), ...facts(r.lookup, started) };
    },
    async lookup(idHex: string): Promise<LookupAnswer> {
      const id = parseIdHex(dht.space, idHex);
      if (id === undefined) {
        throw new WeftError(
          'BAD_REQUEST',
          `${JSON.stringify(idHex)} is not an id of this ring: give at most ${dht.space.hexDigits} hex digits (${dht.space.bits} bits)`,
        );
      }
      const started = performance.now();
      const r = await dht.lookup(id);
      const [owner, ...successors] = r.owners.map((n) => dht.view(n));
      if (owner === undefined) throw new WeftError('NO_ROUTE', 'the lookup named no owner; retry');
      return { id: hex(id), owner, successors, confirmations: r.confirmations, ...facts(r, started) };
    },
    routingTable(): RoutingTableView {
      return dht.routingTable();
    },
  };
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new WeftError('BAD_REQUEST', 'give a non-empty key');
}

/** HTTP status for a DHT error code. */
export function httpStatusOf(error: WeftError): number {
  switch (error.code) {
    case 'BAD_REQUEST':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'TOO_LARGE':
      return 413;
    case 'STORE_FULL':
      return 507;
    case 'NO_ROUTE':
    case 'NOT_IN_RING':
    case 'NOT_OWNER':
      return 503;
    case 'TIMEOUT':
      return 504;
    default:
      return 502;
  }
}
