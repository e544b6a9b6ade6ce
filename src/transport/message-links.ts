import net from 'node:net';
import { channelBytes, encodeFrame, encodeHello, FrameDecoder } from './frame-codec.ts';
import type { MessageHandler, PeerAddress } from './transport.ts';

/** After a link fails, the next connection attempt waits this long, doubling up to the maximum. */
const firstRetryMs = 100;
const maxRetryMs = 1_000;
const keepAliveMs = 10_000;
/** A closing link's last bytes get this long to leave before the socket is destroyed. */
const closeGraceMs = 1_000;

export interface LinkOptions {
  /** This node's advertised address, sent in every link's hello. */
  readonly self: PeerAddress;
  readonly maxQueuedMessagesPerPeer: number;
  /** A link to or from `peer` broke or could not be made. */
  readonly onLost: (peer: PeerAddress) => void;
}

interface Link {
  readonly socket: net.Socket;
  /** Messages handed to the socket and not yet written out. */
  queued: number;
  connected: boolean;
}

/**
 * One-way messages to peers, one TCP connection ("link") per peer, opened at
 * the first message and again after it breaks (frame-codec.ts has the
 * format). gRPC put an HTTP/2 stream, a protobuf envelope and its call
 * machinery around every message: ~44 µs of CPU per message against ~21 µs
 * here, both ends counted (docs/decisions.md, "Peer transport"). Each peer
 * has its own bounded queue, so a slow or dead peer drops only its own
 * messages.
 */
export class OutgoingLinks {
  private readonly links = new Map<PeerAddress, Link>();
  private readonly retry = new Map<PeerAddress, { at: number; delayMs: number }>();
  private readonly channels = new Map<string, Buffer>();
  private closed = false;

  constructor(private readonly options: LinkOptions) {}

  /** False (the message dropped) while closed, backing off after a failure, or with the peer's queue full. */
  send(to: PeerAddress, channel: string, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const link = this.links.get(to) ?? this.open(to);
    if (link === undefined || link.queued >= this.options.maxQueuedMessagesPerPeer) return false;
    link.queued += 1;
    link.socket.write(encodeFrame(this.channel(channel), payload), () => {
      link.queued -= 1;
    });
    return true;
  }

  /** Ends every link once its queued bytes are out. */
  close(): void {
    this.closed = true;
    for (const link of this.links.values()) endGracefully(link.socket);
    this.links.clear();
  }

  private open(to: PeerAddress): Link | undefined {
    const retry = this.retry.get(to);
    if (retry !== undefined && performance.now() < retry.at) return undefined;
    const { host, port } = splitAddress(to);
    let socket: net.Socket;
    try {
      socket = net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: keepAliveMs });
    } catch {
      // Not an address one can connect to (no port, port out of range): drop, and look again later.
      this.retry.set(to, { at: performance.now() + maxRetryMs, delayMs: maxRetryMs });
      return undefined;
    }
    const link: Link = { socket, queued: 0, connected: false };
    this.links.set(to, link);
    socket.write(encodeHello(this.options.self));
    socket.once('connect', () => {
      link.connected = true;
      this.retry.delete(to);
    });
    socket.on('error', () => undefined); // 'close' follows, and says what matters
    socket.once('close', () => {
      if (this.links.get(to) === link) this.links.delete(to);
      if (this.closed) return;
      const delayMs = link.connected ? firstRetryMs : Math.min(maxRetryMs, (retry?.delayMs ?? firstRetryMs / 2) * 2);
      this.retry.set(to, { at: performance.now() + delayMs, delayMs });
      this.options.onLost(to);
    });
    // Nothing is read on a link this way, but the peer's FIN must be seen to notice it went away.
    socket.resume();
    return link;
  }

  private channel(name: string): Buffer {
    let bytes = this.channels.get(name);
    if (bytes === undefined) {
      bytes = channelBytes(name);
      this.channels.set(name, bytes);
    }
    return bytes;
  }
}

/**
 * Serves a link a peer opened to us (its first bytes already read back into
 * the socket): hands each message to its channel's listener, and reports
 * the sender lost when the link ends or breaks, which for a follower is
 * the earliest sign that its leader died. A malformed stream closes the link.
 */
export function serveLink(
  socket: net.Socket,
  options: {
    readonly maxMessageBytes: number;
    readonly listener: (channel: string) => MessageHandler | undefined;
    readonly onLost: (peer: PeerAddress) => void;
    readonly onMalformed: (error: unknown) => void;
  },
): void {
  const decoder = new FrameDecoder(options.maxMessageBytes);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, keepAliveMs);
  socket.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      options.onMalformed(error);
      socket.destroy();
      return;
    }
    const from = decoder.from ?? '';
    for (const { channel, payload } of frames) options.listener(channel)?.(payload, { from });
  });
  socket.on('error', () => undefined); // 'close' follows
  socket.once('close', () => {
    if (decoder.from !== undefined) options.onLost(decoder.from);
  });
}

function endGracefully(socket: net.Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), closeGraceMs).unref();
}

/** "host:port" or "[v6]:port". */
function splitAddress(address: PeerAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
