import * as grpc from '@grpc/grpc-js';
import { weftErrorFromGrpc } from './grpc-errors.ts';
import { peerService } from './grpc-transport.ts';
import type { PeerAddress } from './transport.ts';
import { noChannelz } from './grpc-options.ts';

type CallMethod = (
  request: { method: string; payload: Buffer },
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply?: { payload: Buffer }) => void,
) => grpc.ClientUnaryCall;

/**
 * A client of one node's peer service that serves nothing itself: what
 * `weft client` uses to call the DHT client methods (`dht.client.*`) on the
 * peer port. Errors arrive as typed WeftErrors, as with the transport.
 */
export class PeerCallClient {
  private readonly client: grpc.Client;

  constructor(readonly address: PeerAddress) {
    this.client = new peerService(address, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
      ...noChannelz,
    });
  }

  call(method: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const unary = (this.client as unknown as Record<string, CallMethod>)['Call'] as CallMethod;
    return new Promise((resolve, reject) => {
      unary.call(
        this.client,
        { method, payload: Buffer.from(payload) },
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, reply) => {
          if (error) reject(weftErrorFromGrpc(error, this.address, method));
          else resolve(new Uint8Array(reply?.payload ?? Buffer.alloc(0)));
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
