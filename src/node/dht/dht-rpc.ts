import type { PeerTransport } from '../../transport/transport.ts';
import { decode, encode, type Method, type Wire } from './dht-wire.ts';

/** Typed request/handle over the peer transport for the DHT's methods. */
export class DhtRpc {
  constructor(
    readonly transport: PeerTransport,
    private readonly timeoutMs: number,
  ) {}

  async call<M extends Method>(to: string, method: M, request: Wire[M][0]): Promise<Wire[M][1]> {
    const reply = await this.transport.request(to, method, encode(request), { timeoutMs: this.timeoutMs });
    return decode<Wire[M][1]>(reply);
  }

  handle<M extends Method>(
    method: M,
    serve: (request: Wire[M][0], from: string) => Promise<Wire[M][1]> | Wire[M][1],
  ): void {
    this.transport.handle(method, async (payload, context) => encode(await serve(decode(payload), context.from)));
  }
}
