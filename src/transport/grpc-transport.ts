import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { assert } from '../core/assert.ts';
import { WeftError } from '../core/errors.ts';
import { raceWithDeadline } from './deadline.ts';
import { LINK_MAGIC } from './frame-codec.ts';
import { grpcStatusFor, weftErrorFromGrpc } from './grpc-errors.ts';
import { noChannelz } from './grpc-options.ts';
import { OutgoingLinks, serveLink } from './message-links.ts';
import {
  defaultTransportLimits,
  type LocalIdentity,
  type MessageHandler,
  type PeerAddress,
  type PeerTransport,
  type PingResult,
  type RequestHandler,
  type RequestOptions,
  type TransportLimits,
} from './transport.ts';

// grpc-js would print its own error lines (e.g. on a failed bind) to stderr;
// every failure is surfaced as a typed WeftError and logged by the node.
grpc.setLogVerbosity(grpc.logVerbosity.NONE);

const protoPath = fileURLToPath(new URL('./peer.proto', import.meta.url));
const packageDefinition = protoLoader.loadSync(protoPath, {
  keepCase: false,
  longs: Number,
  defaults: true,
});
export const peerService = (grpc.loadPackageDefinition(packageDefinition) as unknown as PeerPackage).weft.peer.v1.Peer;

interface PeerPackage {
  weft: { peer: { v1: { Peer: grpc.ServiceClientConstructor } } };
}
interface CallRequest {
  method: string;
  payload: Buffer;
}
interface PingReply {
  nodeId: string;
  version: string;
}
type PeerClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export interface GrpcTransportOptions {
  /** Interface to bind, e.g. 127.0.0.1 or 0.0.0.0. */
  readonly host: string;
  /** Port to bind; 0 picks a free one (tests). */
  readonly port: number;
  /** The address peers use to reach us; defaults to host:boundPort. */
  readonly advertiseAddress?: PeerAddress;
  readonly identity: LocalIdentity;
  readonly limits?: TransportLimits;
  /** Adds other services to the same gRPC server before it binds (the etcd-compatible API on the peer port). */
  readonly register?: (server: grpc.Server) => void;
  /** Told about a peer's link that sent bytes weft does not understand (it is closed). */
  readonly onMalformedLink?: (error: unknown) => void;
}

const fromKey = 'weft-from';

/**
 * The production peer transport, on one TCP port: gRPC (HTTP/2) for
 * requests and pings, one client channel per peer; and for one-way
 * messages a plain TCP link per peer (message-links.ts). Each connection
 * the port accepts is told apart by its first byte: a link's hello, or
 * HTTP/2's preface, handed to the gRPC server. A slow or dead peer fills
 * only its own queue.
 */
export class GrpcTransport implements PeerTransport {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly listeners = new Map<string, MessageHandler>();
  private readonly clients = new Map<PeerAddress, PeerClient>();
  private readonly links: OutgoingLinks;
  /** Every connection accepted on the port, links and HTTP/2 alike, to close with the transport. */
  private readonly accepted = new Set<net.Socket>();
  private closed = false;
  private readonly lostHandlers: ((peer: PeerAddress) => void)[] = [];

  private constructor(
    readonly address: PeerAddress,
    private readonly identity: LocalIdentity,
    private readonly limits: TransportLimits,
    private readonly server: grpc.Server,
    private readonly port: { readonly tcp: net.Server; readonly injector: grpc.ConnectionInjector },
    private readonly onMalformedLink: (error: unknown) => void,
  ) {
    this.links = new OutgoingLinks({
      self: address,
      maxQueuedMessagesPerPeer: limits.maxQueuedMessagesPerPeer,
      onLost: (peer) => this.lost(peer),
    });
  }

  /** Bind the port; rejects with PORT_IN_USE when it is taken. */
  static async listen(options: GrpcTransportOptions): Promise<GrpcTransport> {
    const limits = options.limits ?? defaultTransportLimits;
    const holder: { transport?: GrpcTransport } = {};
    const server = new grpc.Server({
      'grpc.max_receive_message_length': limits.maxMessageBytes,
      'grpc.max_send_message_length': limits.maxMessageBytes,
      ...noChannelz,
    });
    server.addService(peerService.service, {
      Ping: (_call: unknown, callback: grpc.sendUnaryData<PingReply>) =>
        callback(null, holder.transport?.identity ?? { nodeId: '', version: '' }),
      Call: (call: grpc.ServerUnaryCall<CallRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        assert(holder.transport !== undefined, 'transport exists before serving calls');
        holder.transport.serveCall(call, callback);
      },
    });
    options.register?.(server);
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const tcp = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (holder.transport === undefined) socket.destroy();
      else holder.transport.accept(socket);
    });
    const port = await bind(tcp, options.host, options.port);
    const address = options.advertiseAddress ?? `${formatHost(options.host)}:${port}`;
    const transport = new GrpcTransport(
      address,
      options.identity,
      limits,
      server,
      { tcp, injector },
      options.onMalformedLink ?? (() => undefined),
    );
    holder.transport = transport;
    return transport;
  }

  handle(method: string, handler: RequestHandler): void {
    assert(!this.handlers.has(method), `one handler for method ${method}`);
    this.handlers.set(method, handler);
  }

  onPeerLost(handler: (peer: PeerAddress) => void): void {
    this.lostHandlers.push(handler);
  }

  onMessage(channel: string, handler: MessageHandler): void {
    assert(!this.listeners.has(channel), `one listener for channel ${channel}`);
    this.listeners.set(channel, handler);
  }

  request(to: PeerAddress, method: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    const work = new Promise<Uint8Array>((resolve, reject) => {
      const client = this.client(to);
      const request: CallRequest = { method, payload: Buffer.from(payload) };
      const unary = client['Call'] as (
        request: CallRequest,
        metadata: grpc.Metadata,
        options: grpc.CallOptions,
        callback: (error: grpc.ServiceError | null, reply?: { payload: Buffer }) => void,
      ) => grpc.ClientUnaryCall;
      const pending = unary.call(
        client,
        request,
        this.metadata(),
        { deadline: Date.now() + options.timeoutMs },
        (error, reply) => {
          if (error) reject(weftErrorFromGrpc(error, to, method));
          else resolve(new Uint8Array(reply?.payload ?? Buffer.alloc(0)));
        },
      );
      options.signal?.addEventListener('abort', () => pending.cancel(), { once: true });
    });
    return raceWithDeadline(work, options, `request ${method} to ${to}`);
  }

  send(to: PeerAddress, channel: string, payload: Uint8Array): boolean {
    assert(payload.byteLength <= this.limits.maxMessageBytes, 'one-way payload within maxMessageBytes');
    return this.links.send(to, channel, payload);
  }

  ping(to: PeerAddress, options: RequestOptions): Promise<PingResult> {
    const started = performance.now();
    const work = new Promise<PingResult>((resolve, reject) => {
      const client = this.client(to);
      const unary = client['Ping'] as (
        request: object,
        metadata: grpc.Metadata,
        options: grpc.CallOptions,
        callback: (error: grpc.ServiceError | null, reply?: PingReply) => void,
      ) => grpc.ClientUnaryCall;
      const pending = unary.call(
        client,
        {},
        this.metadata(),
        { deadline: Date.now() + options.timeoutMs },
        (error, reply) => {
          if (error || reply === undefined) {
            reject(weftErrorFromGrpc(error, to, 'Ping'));
            return;
          }
          resolve({ nodeId: reply.nodeId, version: reply.version, rttMs: performance.now() - started });
        },
      );
      options.signal?.addEventListener('abort', () => pending.cancel(), { once: true });
    });
    return raceWithDeadline(work, options, `ping ${to}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.links.close();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    const portClosed = new Promise<void>((resolve) => this.port.tcp.close(() => resolve()));
    await shutdown(this.server, 2_000);
    for (const socket of this.accepted) socket.destroy();
    await portClosed;
  }

  /**
   * A connection on the port: a peer's message link (its hello's first
   * byte) or an HTTP/2 connection for the gRPC server. The first bytes are
   * read to tell, then put back for whoever serves it.
   */
  private accept(socket: net.Socket): void {
    this.accepted.add(socket);
    socket.once('close', () => this.accepted.delete(socket));
    socket.on('error', () => undefined); // a reset peer; 'close' follows
    socket.once('readable', () => {
      const head = socket.read() as Buffer | null;
      if (head === null) {
        socket.destroy();
        return;
      }
      socket.unshift(head);
      if (head[0] === LINK_MAGIC[0]) {
        serveLink(socket, {
          maxMessageBytes: this.limits.maxMessageBytes,
          listener: (channel) => this.listeners.get(channel),
          onLost: (peer) => this.lost(peer),
          onMalformed: this.onMalformedLink,
        });
      } else {
        this.port.injector.injectConnection(socket);
      }
    });
  }

  private lost(peer: PeerAddress): void {
    if (!this.closed && peer !== '') for (const handler of this.lostHandlers) handler(peer);
  }

  private serveCall(call: grpc.ServerUnaryCall<CallRequest, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const { method, payload } = call.request;
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      const error = new WeftError('UNKNOWN_METHOD', `peer ${this.address} does not serve ${method}`);
      callback(grpcStatusFor(error));
      return;
    }
    const from = String(call.metadata.get(fromKey)[0] ?? '');
    Promise.resolve()
      .then(() => handler(new Uint8Array(payload), { from }))
      .then(
        (reply) => callback(null, { payload: Buffer.from(reply) }),
        (error: unknown) => callback(grpcStatusFor(error)),
      );
  }

  private client(to: PeerAddress): PeerClient {
    if (this.closed) {
      throw new WeftError('TRANSPORT_CLOSED', `transport ${this.address} is closed`);
    }
    let client = this.clients.get(to);
    if (client === undefined) {
      client = new peerService(to, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.limits.maxMessageBytes,
        'grpc.max_send_message_length': this.limits.maxMessageBytes,
        // A restarted peer should be found again within about a second, not
        // after gRPC's default back-off of up to two minutes.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        ...noChannelz,
      }) as PeerClient;
      this.clients.set(to, client);
      this.watchConnection(to, client);
    }
    return client;
  }

  /**
   * Report a peer lost as soon as its connection drops (a killed process's
   * socket is closed by the kernel), without waiting for a write to fail: a
   * Raft follower whose leader died has nothing left to send it.
   */
  private watchConnection(to: PeerAddress, client: PeerClient): void {
    const channel = client.getChannel();
    const watch = (state: grpc.connectivityState): void => {
      channel.watchConnectivityState(state, Infinity, () => {
        if (this.closed || this.clients.get(to) !== client) return;
        const next = channel.getConnectivityState(false);
        const dropped = state === grpc.connectivityState.READY && next !== grpc.connectivityState.READY;
        if (dropped) for (const handler of this.lostHandlers) handler(to);
        watch(next);
      });
    };
    watch(channel.getConnectivityState(false));
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(fromKey, this.address);
    return metadata;
  }
}

function bind(tcp: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') {
        reject(new WeftError('PORT_IN_USE', `port ${port} on ${host} is already in use`, { host, port }));
        return;
      }
      reject(error);
    };
    tcp.once('error', failed);
    tcp.listen(port, host, () => {
      tcp.off('error', failed);
      resolve((tcp.address() as net.AddressInfo).port);
    });
  });
}

function shutdown(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** IPv6 literals need brackets in "host:port". */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
