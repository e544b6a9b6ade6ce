import { assert } from '../core/assert.ts';
import { WeftError } from '../core/errors.ts';
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
import { raceWithDeadline } from './deadline.ts';

/**
 * An in-process network of transports: a first-class implementation of the
 * peer transport for tests of the node layer (no sockets, no ports). Links
 * can be cut in one direction to model asymmetric partitions.
 */
export class MemoryNetwork {
  private readonly members = new Map<PeerAddress, MemoryTransport>();
  private readonly cutLinks = new Set<string>();

  /** A transport reachable at `address` on this network. */
  join(
    address: PeerAddress,
    identity: LocalIdentity,
    limits: TransportLimits = defaultTransportLimits,
  ): MemoryTransport {
    assert(!this.members.has(address), `address ${address} joins the memory network once`);
    const transport = new MemoryTransport(this, address, identity, limits);
    this.members.set(address, transport);
    return transport;
  }

  /** Drop everything sent from `from` to `to` (one direction) until healed. */
  cut(from: PeerAddress, to: PeerAddress): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** @internal The live transport behind `to`, if `from` can reach it. */
  route(from: PeerAddress, to: PeerAddress): MemoryTransport | undefined {
    if (this.cutLinks.has(`${from}>${to}`)) return undefined;
    const target = this.members.get(to);
    return target?.isOpen() ? target : undefined;
  }

  /** @internal A member that closes resets its connections: the others learn it is gone. */
  leave(address: PeerAddress): void {
    this.members.delete(address);
    for (const member of this.members.values()) member.peerLost(address);
  }
}

export class MemoryTransport implements PeerTransport {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly listeners = new Map<string, MessageHandler>();
  private open = true;
  private readonly lostHandlers: ((peer: PeerAddress) => void)[] = [];

  constructor(
    private readonly network: MemoryNetwork,
    readonly address: PeerAddress,
    private readonly identity: LocalIdentity,
    private readonly limits: TransportLimits,
  ) {}

  isOpen(): boolean {
    return this.open;
  }

  handle(method: string, handler: RequestHandler): void {
    assert(!this.handlers.has(method), `one handler for method ${method}`);
    this.handlers.set(method, handler);
  }

  onPeerLost(handler: (peer: PeerAddress) => void): void {
    this.lostHandlers.push(handler);
  }

  /** @internal */
  peerLost(address: PeerAddress): void {
    queueMicrotask(() => {
      for (const handler of this.lostHandlers) handler(address);
    });
  }

  onMessage(channel: string, handler: MessageHandler): void {
    assert(!this.listeners.has(channel), `one listener for channel ${channel}`);
    this.listeners.set(channel, handler);
  }

  async request(to: PeerAddress, method: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    this.checkOpen();
    this.checkSize(payload);
    const target = this.reach(to);
    // Copy so that neither side can mutate the other's bytes, as on a wire.
    const copy = payload.slice();
    const work = (async () => {
      await Promise.resolve();
      const reply = await target.serve(method, copy, this.address);
      return reply.slice();
    })();
    return raceWithDeadline(work, options, `request ${method} to ${to}`);
  }

  send(to: PeerAddress, channel: string, payload: Uint8Array): boolean {
    if (!this.open) return false;
    this.checkSize(payload);
    const target = this.network.route(this.address, to);
    if (target === undefined) return true; // lost on the wire, as a real network may do
    const copy = payload.slice();
    queueMicrotask(() => target.deliver(channel, copy, this.address));
    return true;
  }

  async ping(to: PeerAddress, options: RequestOptions): Promise<PingResult> {
    this.checkOpen();
    const target = this.reach(to);
    const started = performance.now();
    const identity = await raceWithDeadline(
      Promise.resolve().then(() => target.identity),
      options,
      `ping ${to}`,
    );
    return { ...identity, rttMs: performance.now() - started };
  }

  async close(): Promise<void> {
    this.open = false;
    this.network.leave(this.address);
  }

  private async serve(method: string, payload: Uint8Array, from: PeerAddress): Promise<Uint8Array> {
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      throw new WeftError('UNKNOWN_METHOD', `peer ${this.address} does not serve ${method}`, {
        method,
      });
    }
    try {
      return await handler(payload, { from });
    } catch (error) {
      throw remoteError(error, this.address, method);
    }
  }

  private deliver(channel: string, payload: Uint8Array, from: PeerAddress): void {
    if (!this.open) return;
    this.listeners.get(channel)?.(payload, { from });
  }

  private reach(to: PeerAddress): MemoryTransport {
    const target = this.network.route(this.address, to);
    if (target === undefined) {
      throw new WeftError('PEER_UNREACHABLE', `peer ${to} is unreachable`, { peer: to });
    }
    return target;
  }

  private checkOpen(): void {
    if (!this.open) {
      throw new WeftError('TRANSPORT_CLOSED', `transport ${this.address} is closed`);
    }
  }

  private checkSize(payload: Uint8Array): void {
    assert(
      payload.byteLength <= this.limits.maxMessageBytes,
      `payload of ${payload.byteLength} bytes is within maxMessageBytes; callers split larger data`,
    );
  }
}

function remoteError(error: unknown, address: PeerAddress, method: string): WeftError {
  if (error instanceof WeftError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WeftError('REMOTE_ERROR', `peer ${address} failed ${method}: ${message}`, { method });
}
