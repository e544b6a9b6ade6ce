import { WeftError } from '../core/errors.ts';
import type { PeerTransport } from '../transport/transport.ts';
import type { DhtClient } from './dht-client-api.ts';

/**
 * The DHT client API over gRPC: methods of the peer service's `Call`
 * (src/transport/peer.proto) with JSON payloads, so `weft client --addr
 * host:peer-port` needs only the peer port, as the seed's client did.
 */
export const dhtClientMethods = {
  put: 'dht.client.put',
  get: 'dht.client.get',
  delete: 'dht.client.delete',
  lookup: 'dht.client.lookup',
  routingTable: 'dht.client.routing-table',
} as const;

interface Request {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly id?: unknown;
}

export function registerDhtClientService(transport: PeerTransport, client: DhtClient): void {
  const serve = (method: string, work: (request: Request) => Promise<unknown> | unknown): void =>
    transport.handle(method, async (payload) => {
      const answer = await work(parse(payload));
      return new TextEncoder().encode(JSON.stringify(answer));
    });
  serve(dhtClientMethods.put, (r) => client.put(text(r.key, 'key'), text(r.value, 'value')));
  serve(dhtClientMethods.get, (r) => client.get(text(r.key, 'key')));
  serve(dhtClientMethods.delete, (r) => client.delete(text(r.key, 'key')));
  serve(dhtClientMethods.lookup, (r) => client.lookup(text(r.id, 'id')));
  serve(dhtClientMethods.routingTable, () => client.routingTable());
}

function parse(payload: Uint8Array): Request {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof value === 'object' && value !== null) return value as Request;
  } catch {
    // reported below
  }
  throw new WeftError('BAD_REQUEST', 'a DHT client request is a JSON object');
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new WeftError('BAD_REQUEST', `${field} must be a string`);
  return value;
}
