import { Readable } from 'node:stream';
import { WeftError, type ErrorCode, isWeftError } from '../../core/errors.ts';
import type { PeerAddress, PeerTransport } from '../../transport/transport.ts';

/** Chunks an owner sends ahead of the entry node's acknowledgements: the memory a body in flight holds. */
export const windowChunks = 16;
/** Bodies one node sends at once; past it the owner answers 503 rather than hold more origin connections. */
export const maxOutgoingBodies = 256;

const data = 0;
const end = 1;
const failed = 2;
/** An acknowledgement count that means "stop sending": the client went away. */
const cancel = 0xffffffff;

interface Outgoing {
  readonly to: PeerAddress;
  readonly body: Readable;
  inFlight: number;
}

/**
 * Bodies too large for one peer message (a response passed through
 * uncached), sent from the owner to the entry node as a run of messages on
 * the transport's ordered per-peer stream: `<name>.d` carries [u32 id]
 * [u8 data|end|failed][bytes, or the error as JSON], `<name>.k` the entry
 * node's acknowledgements [u32 id][u32 chunks read] (or `cancel`). The owner
 * keeps at most `windowChunks` unacknowledged chunks out and pauses the
 * origin meanwhile, so a slow client slows the origin instead of filling
 * memory. A body ends only on an explicit end message; a lost peer, a full
 * queue or an idle deadline fails it, and the HTTP layer then aborts the
 * client's connection.
 */
export class BodyStreams {
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly incoming = new Map<string, IncomingBody>();
  private nextId = 0;

  constructor(
    private readonly transport: PeerTransport,
    private readonly name: string,
    private readonly idleMs: number,
  ) {
    transport.onMessage(`${name}.d`, (payload, context) => this.received(payload, context.from));
    transport.onMessage(`${name}.k`, (payload, context) => this.acknowledged(payload, context.from));
    transport.onPeerLost((peer) => this.lost(peer));
  }

  /** Owner side: start sending `body` to `to`; the returned id goes in the answer. */
  send(to: PeerAddress, body: Readable): number {
    if (this.outgoing.size >= maxOutgoingBodies) {
      body.destroy();
      throw new WeftError('OVERLOADED', `${maxOutgoingBodies} bodies are being sent to other nodes already`);
    }
    this.nextId = (this.nextId + 1) >>> 0;
    const id = this.nextId;
    const out: Outgoing = { to, body, inFlight: 0 };
    this.outgoing.set(id, out);
    const message = (kind: number, bytes: Uint8Array): boolean => {
      const framed = Buffer.allocUnsafe(5 + bytes.byteLength);
      framed.writeUInt32BE(id, 0);
      framed[4] = kind;
      framed.set(bytes, 5);
      return this.transport.send(to, `${this.name}.d`, framed);
    };
    body.on('data', (chunk: Buffer) => {
      if (!message(data, chunk)) {
        // The queue to the peer is full: the body cannot arrive whole, so it fails (the entry's deadline tells it).
        this.forget(id);
        body.destroy();
        return;
      }
      out.inFlight += 1;
      if (out.inFlight >= windowChunks) body.pause();
    });
    body.on('end', () => {
      this.forget(id);
      message(end, new Uint8Array(0));
    });
    body.on('error', (error) => {
      if (!this.forget(id)) return;
      const code: ErrorCode = isWeftError(error) ? error.code : 'REMOTE_ERROR';
      message(failed, Buffer.from(JSON.stringify({ code, message: error.message })));
    });
    return id;
  }

  /** Entry side: the body `id` from `from`, whose chunks may have started arriving already. */
  receive(from: PeerAddress, id: number): Readable {
    const body = this.incomingBody(from, id);
    body.claim();
    return body;
  }

  /** Fail every body in either direction (the node is stopping). */
  close(): void {
    for (const id of [...this.outgoing.keys()]) this.outgoing.get(id)?.body.destroy();
    this.outgoing.clear();
    for (const body of [...this.incoming.values()]) body.fail(new WeftError('ABORTED', 'the node is stopping'));
  }

  /** Bodies being sent and received, for tests. */
  get counts(): { outgoing: number; incoming: number } {
    return { outgoing: this.outgoing.size, incoming: this.incoming.size };
  }

  private forget(id: number): boolean {
    return this.outgoing.delete(id);
  }

  private incomingBody(from: PeerAddress, id: number): IncomingBody {
    const key = `${from}#${id}`;
    let body = this.incoming.get(key);
    if (body === undefined) {
      body = new IncomingBody({
        idleMs: this.idleMs,
        ack: (count) => this.ack(from, id, count),
        done: () => this.incoming.delete(key),
        from,
      });
      this.incoming.set(key, body);
    }
    return body;
  }

  private ack(to: PeerAddress, id: number, count: number): void {
    const framed = Buffer.allocUnsafe(8);
    framed.writeUInt32BE(id, 0);
    framed.writeUInt32BE(count, 4);
    this.transport.send(to, `${this.name}.k`, framed);
  }

  private received(payload: Uint8Array, from: PeerAddress): void {
    const message = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (message.length < 5) return;
    const id = message.readUInt32BE(0);
    const kind = message[4];
    const body = this.incomingBody(from, id);
    const rest = message.subarray(5);
    if (kind === data) body.chunk(rest);
    else if (kind === end) body.finish();
    else {
      let error: WeftError;
      try {
        const { code, message: text } = JSON.parse(rest.toString('utf8')) as { code: ErrorCode; message: string };
        error = new WeftError(code, text, { peer: from });
      } catch {
        error = new WeftError('REMOTE_ERROR', `the body from ${from} failed`, { peer: from });
      }
      body.fail(error);
    }
  }

  private acknowledged(payload: Uint8Array, from: PeerAddress): void {
    const message = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (message.length < 8) return;
    const id = message.readUInt32BE(0);
    const out = this.outgoing.get(id);
    if (out === undefined || out.to !== from) return;
    const count = message.readUInt32BE(4);
    if (count === cancel) {
      this.forget(id);
      out.body.destroy();
      return;
    }
    out.inFlight = Math.max(0, out.inFlight - count);
    if (out.inFlight < windowChunks && out.body.isPaused()) out.body.resume();
  }

  private lost(peer: PeerAddress): void {
    for (const [id, out] of this.outgoing) {
      if (out.to !== peer) continue;
      this.forget(id);
      out.body.destroy();
    }
    for (const body of [...this.incoming.values()]) {
      if (body.from !== peer) continue;
      body.fail(new WeftError('PEER_UNREACHABLE', `peer ${peer} was lost mid-body`, { peer }));
    }
  }
}

/**
 * A body arriving from another node. Chunks read by the consumer are
 * acknowledged when it asks for more (`_read`), which is what paces the
 * sender. While the consumer waits, or before anyone claims the body, an
 * idle deadline runs: no chunk within it fails the body.
 */
class IncomingBody extends Readable {
  readonly from: PeerAddress;
  private received = 0;
  private acked = 0;
  private claimed = false;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      readonly idleMs: number;
      readonly ack: (count: number) => void;
      readonly done: () => void;
      readonly from: PeerAddress;
    },
  ) {
    super();
    this.from = deps.from;
    this.arm();
  }

  claim(): void {
    this.claimed = true;
  }

  chunk(bytes: Buffer): void {
    if (this.settled) return;
    this.received += 1;
    if (this.claimed) this.disarm();
    this.push(Buffer.from(bytes));
  }

  finish(): void {
    if (this.settled) return;
    this.settle();
    this.push(null);
  }

  fail(error: WeftError): void {
    if (this.settled) return;
    this.settle();
    this.destroy(error);
  }

  override _read(): void {
    if (this.received > this.acked) {
      this.deps.ack(this.received - this.acked);
      this.acked = this.received;
    }
    if (!this.settled) this.arm();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.settled) {
      // The consumer left (the client disconnected): tell the owner to stop.
      this.settle();
      this.deps.ack(cancel);
    }
    callback(error);
  }

  private settle(): void {
    this.settled = true;
    this.disarm();
    this.deps.done();
  }

  private arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      if (this.settled) return;
      this.settle();
      this.deps.ack(cancel);
      this.destroy(
        new WeftError('TIMEOUT', `no part of the body from ${this.from} came within ${this.deps.idleMs} ms`),
      );
    }, this.deps.idleMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
