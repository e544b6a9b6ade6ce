import type { Socket } from 'node:net';
import {
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  H2_ERROR,
  PREFACE,
  SETTING,
  frameOf,
  goawayFrame,
  rstFrame,
  settingsFrame,
  unpad,
  windowUpdateFrame,
} from './frames.ts';
import { HpackDecoder, HpackError, encodeHeaders, type HeaderList } from './hpack.ts';

/**
 * The server side of one HTTP/2 connection (RFC 9113) in JavaScript, over a
 * plain TCP socket ("prior knowledge", as gRPC speaks it). It is what the
 * client port needs and no more: requests with a body, answers with
 * headers, a body and trailers, flow control both ways, and the frames a
 * peer may send (SETTINGS, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY,
 * PRIORITY). No server push, no TLS.
 *
 * Why not node:http2: its streams are native objects, reached through weak
 * handles, with header strings kept outside V8's heap; clearing those took
 * about 14 ms of every full garbage collection's pause in a loaded node, and
 * the native calls per request cost CPU besides (docs/decisions.md,
 * "Client port").
 */
export interface H2Limits {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused. */
  readonly maxConcurrentStreams: number;
  /** Advertised as SETTINGS_MAX_HEADER_LIST_SIZE; the stream reports its own size for the server to judge. */
  readonly maxHeaderListBytes: number;
}

export type IncomingHeaders = Record<string, string | string[]>;

/** The largest frame we accept: the default SETTINGS_MAX_FRAME_SIZE, which we do not raise. */
const MAX_FRAME_BYTES = 16_384;
/** A header block (HEADERS + CONTINUATION) larger than this ends the connection before it is decoded. */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;
/** Receive windows: per stream as advertised, and the connection's (raised at the start from 65,535). */
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 16 << 20;
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
/**
 * Answers to PING and SETTINGS are queued only while less than this waits
 * unsent: a peer that sends them without reading (a "ping flood") is cut off.
 * Response data needs no such bound: it never exceeds the windows the peer grants.
 */
const MAX_UNSENT_BYTES = 1 << 20;

const noop = (): void => undefined;

/** One request on a connection: its headers, then its body as it arrives; answered once. */
export class H2Stream {
  /** Each DATA payload, a view of the bytes received (copy what outlives the call). */
  onData: (chunk: Buffer) => void = noop;
  /** The client finished its request (END_STREAM). */
  onEnd: () => void = noop;
  /** The stream ended before the answer was sent in full: reset by the client, or its connection closed. */
  onAbort: () => void = noop;
  /** An answer was started (its headers are queued). */
  answered = false;
  /** Reset, finished both ways, or its connection gone. */
  closed = false;
  remoteEnded = false;
  localEnded = false;
  sendWindow: number;
  receiveWindow = STREAM_WINDOW;
  receivedUnacknowledged = 0;
  pendingBody: Buffer | undefined;
  pendingTrailers: Buffer | undefined;

  constructor(
    readonly id: number,
    readonly headers: IncomingHeaders,
    /** The size of the header list as SETTINGS_MAX_HEADER_LIST_SIZE counts it (§6.5.2). */
    readonly headerListBytes: number,
    private readonly connection: H2ServerConnection,
  ) {
    this.sendWindow = connection.peerInitialWindow;
  }

  /**
   * Answers: `headers`, then `body` (if any), then `trailers` (if any); the
   * last of them ends the stream. The body waits for the client's flow
   * control windows as needed.
   */
  respond(headers: HeaderList, body?: Buffer, trailers?: HeaderList): void {
    if (this.answered || this.closed) return;
    this.answered = true;
    this.connection.respond(this, headers, body, trailers);
  }
}

export class H2ServerConnection {
  peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, H2Stream>();
  private prefaceSeen = false;
  private pending: Buffer | undefined;
  private headerBlock: { streamId: number; endStream: boolean; fragments: Buffer[]; bytes: number } | undefined;
  private lastStreamId = 0;
  private sendWindow = DEFAULT_WINDOW;
  private receiveWindow = CONNECTION_WINDOW;
  private receivedUnacknowledged = 0;
  private goingAway = false;
  private closed = false;
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly limits: H2Limits,
    private readonly onStream: (stream: H2Stream) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.abortAll());
  }

  /** Takes no new streams (GOAWAY); the socket closes once the open ones are answered. */
  shutdown(): void {
    if (this.goingAway || this.closed) return;
    this.goingAway = true;
    this.write(goawayFrame(this.lastStreamId, H2_ERROR.none, ''));
    this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- input ---------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const input = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    if (!this.prefaceSeen) {
      const seen = Math.min(input.length, PREFACE.length);
      if (!input.subarray(0, seen).equals(PREFACE.subarray(0, seen))) {
        this.notHttp2();
        return;
      }
      if (seen < PREFACE.length) {
        this.pending = input;
        return;
      }
      this.prefaceSeen = true;
      at = PREFACE.length;
      this.write(
        settingsFrame([
          [SETTING.maxStreams, this.limits.maxConcurrentStreams],
          [SETTING.initialWindow, STREAM_WINDOW],
          [SETTING.maxHeaderList, this.limits.maxHeaderListBytes],
        ]),
      );
      this.write(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    }
    while (input.length - at >= FRAME_HEADER_BYTES) {
      const length = input.readUIntBE(at, 3);
      if (length > MAX_FRAME_BYTES) {
        this.fail(H2_ERROR.frameSize, `a frame of ${length} bytes, over the ${MAX_FRAME_BYTES} allowed`);
        return;
      }
      if (input.length - at - FRAME_HEADER_BYTES < length) break;
      const type = input[at + 3]!;
      const flags = input[at + 4]!;
      const streamId = input.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = input.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      this.frame(type, flags, streamId, payload);
      if (this.closed) return;
    }
    this.pending = at === input.length ? undefined : input.subarray(at);
  }

  private frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock !== undefined && (type !== FRAME.continuation || streamId !== this.headerBlock.streamId)) {
      this.fail(H2_ERROR.protocol, 'a header block was interrupted by another frame');
      return;
    }
    switch (type) {
      case FRAME.data:
        this.data(flags, streamId, payload);
        return;
      case FRAME.headers:
        this.headers(flags, streamId, payload);
        return;
      case FRAME.continuation:
        this.continuation(flags, streamId, payload);
        return;
      case FRAME.priority:
        if (streamId === 0) this.fail(H2_ERROR.protocol, 'PRIORITY on stream 0');
        else if (payload.length !== 5) this.resetStream(streamId, H2_ERROR.frameSize);
        return;
      case FRAME.rst:
        this.reset(streamId, payload);
        return;
      case FRAME.settings:
        this.settings(flags, streamId, payload);
        return;
      case FRAME.push:
        this.fail(H2_ERROR.protocol, 'a client may not push');
        return;
      case FRAME.ping:
        if (streamId !== 0) this.fail(H2_ERROR.protocol, 'PING on a stream');
        else if (payload.length !== 8) this.fail(H2_ERROR.frameSize, 'PING of other than 8 bytes');
        else if ((flags & FLAG.ack) === 0) this.writeControl(frameOf(FRAME.ping, FLAG.ack, 0, payload));
        return;
      case FRAME.goaway:
        if (streamId !== 0) this.fail(H2_ERROR.protocol, 'GOAWAY on a stream');
        else {
          this.goingAway = true;
          this.endIfIdle();
        }
        return;
      case FRAME.window:
        this.windowUpdate(streamId, payload);
        return;
      default:
        return; // Unknown frame types are ignored (§5.5).
    }
  }

  private data(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) {
      this.fail(H2_ERROR.protocol, 'DATA on stream 0');
      return;
    }
    this.receiveWindow -= payload.length;
    if (this.receiveWindow < 0) {
      this.fail(H2_ERROR.flowControl, 'DATA past the connection window');
      return;
    }
    this.acknowledge(payload.length);
    const body = unpad(flags, payload);
    if (body === undefined) {
      this.fail(H2_ERROR.protocol, 'padding longer than its frame');
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      // DATA may still arrive on a stream we answered and reset; on one never opened it is an error.
      if (streamId > this.lastStreamId) this.fail(H2_ERROR.protocol, `DATA on idle stream ${streamId}`);
      return;
    }
    if (stream.remoteEnded) {
      this.resetStream(streamId, H2_ERROR.streamClosed);
      return;
    }
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) {
      this.resetStream(streamId, H2_ERROR.flowControl);
      return;
    }
    if (body.length > 0) stream.onData(body);
    if (flags & FLAG.endStream) this.remoteEnd(stream);
    else if (!stream.closed) {
      stream.receivedUnacknowledged += payload.length;
      if (stream.receivedUnacknowledged >= STREAM_WINDOW / 2) {
        this.write(windowUpdateFrame(streamId, stream.receivedUnacknowledged));
        stream.receiveWindow += stream.receivedUnacknowledged;
        stream.receivedUnacknowledged = 0;
      }
    }
  }

  /** Gives the connection window back once half of it is used. */
  private acknowledge(bytes: number): void {
    this.receivedUnacknowledged += bytes;
    if (this.receivedUnacknowledged < CONNECTION_WINDOW / 2) return;
    this.write(windowUpdateFrame(0, this.receivedUnacknowledged));
    this.receiveWindow += this.receivedUnacknowledged;
    this.receivedUnacknowledged = 0;
  }

  private headers(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) {
      this.fail(H2_ERROR.protocol, 'HEADERS on stream 0');
      return;
    }
    let fragment = unpad(flags, payload);
    if (fragment !== undefined && flags & FLAG.priority)
      fragment = fragment.length >= 5 ? fragment.subarray(5) : undefined;
    if (fragment === undefined) {
      this.fail(H2_ERROR.protocol, 'HEADERS shorter than its padding and priority');
      return;
    }
    const endStream = (flags & FLAG.endStream) !== 0;
    if (flags & FLAG.endHeaders) this.headerBlockDone(streamId, endStream, fragment);
    else this.headerBlock = { streamId, endStream, fragments: [fragment], bytes: fragment.length };
  }

  private continuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.headerBlock;
    if (block === undefined) {
      this.fail(H2_ERROR.protocol, `CONTINUATION without HEADERS on stream ${streamId}`);
      return;
    }
    block.fragments.push(payload);
    block.bytes += payload.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) {
      this.fail(H2_ERROR.protocol, `a header block over ${MAX_HEADER_BLOCK_BYTES} bytes`);
      return;
    }
    if ((flags & FLAG.endHeaders) === 0) return;
    this.headerBlock = undefined;
    this.headerBlockDone(streamId, block.endStream, Buffer.concat(block.fragments));
  }

  private headerBlockDone(streamId: number, endStream: boolean, block: Buffer): void {
    let list: HeaderList;
    try {
      list = this.decoder.decode(block);
    } catch (error) {
      if (!(error instanceof HpackError)) throw error;
      this.fail(H2_ERROR.compression, error.message);
      return;
    }
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers: they must end the request.
      if (!endStream || existing.remoteEnded) this.resetStream(streamId, H2_ERROR.protocol);
      else this.remoteEnd(existing);
      return;
    }
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) {
      this.fail(H2_ERROR.protocol, `HEADERS opening stream ${streamId}, after ${this.lastStreamId}`);
      return;
    }
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.limits.maxConcurrentStreams) {
      this.resetStream(streamId, H2_ERROR.refused);
      return;
    }
    // No prototype: a header named "__proto__" or "constructor" is just a header.
    const headers = Object.create(null) as IncomingHeaders;
    let listBytes = 0;
    for (const [name, value] of list) {
      listBytes += name.length + value.length + 32;
      const seen = headers[name];
      if (seen === undefined) headers[name] = value;
      else if (typeof seen === 'string') headers[name] = [seen, value];
      else seen.push(value);
    }
    const stream = new H2Stream(streamId, headers, listBytes, this);
    this.streams.set(streamId, stream);
    this.onStream(stream);
    if (endStream) this.remoteEnd(stream);
  }

  private remoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    stream.onEnd();
    this.closeIfDone(stream);
  }

  private reset(streamId: number, payload: Buffer): void {
    if (streamId === 0) this.fail(H2_ERROR.protocol, 'RST_STREAM on stream 0');
    else if (payload.length !== 4) this.fail(H2_ERROR.frameSize, 'RST_STREAM of other than 4 bytes');
    else if (streamId > this.lastStreamId) this.fail(H2_ERROR.protocol, `RST_STREAM on idle stream ${streamId}`);
    else this.drop(streamId);
  }

  private settings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) {
      this.fail(H2_ERROR.protocol, 'SETTINGS on a stream');
      return;
    }
    if (flags & FLAG.ack) {
      if (payload.length !== 0) this.fail(H2_ERROR.frameSize, 'a SETTINGS acknowledgement with a payload');
      return;
    }
    if (payload.length % 6 !== 0) {
      this.fail(H2_ERROR.frameSize, 'SETTINGS not a multiple of 6 bytes');
      return;
    }
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === SETTING.enablePush && value > 1) return this.fail(H2_ERROR.protocol, 'ENABLE_PUSH over 1');
      if (id === SETTING.initialWindow) {
        if (value > MAX_WINDOW) return this.fail(H2_ERROR.flowControl, 'INITIAL_WINDOW_SIZE over 2^31 - 1');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      }
      if (id === SETTING.maxFrameSize) {
        if (value < 16_384 || value > 16_777_215) return this.fail(H2_ERROR.protocol, 'MAX_FRAME_SIZE out of range');
        this.peerMaxFrame = value;
      }
    }
    this.writeControl(frameOf(FRAME.settings, FLAG.ack, 0, Buffer.alloc(0)));
    this.flushAll();
  }

  private windowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) {
      this.fail(H2_ERROR.frameSize, 'WINDOW_UPDATE of other than 4 bytes');
      return;
    }
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(H2_ERROR.protocol, 'a WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) return this.fail(H2_ERROR.flowControl, 'connection window over 2^31 - 1');
      this.flushAll();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.resetStream(streamId, H2_ERROR.protocol);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.resetStream(streamId, H2_ERROR.flowControl);
    this.flush(stream);
  }

  // ---- output --------------------------------------------------------------

  respond(stream: H2Stream, headers: HeaderList, body: Buffer | undefined, trailers: HeaderList | undefined): void {
    this.writeHeaders(stream.id, encodeHeaders(headers), body === undefined);
    if (body === undefined) {
      this.localEnd(stream);
      return;
    }
    stream.pendingBody = body;
    stream.pendingTrailers = trailers === undefined ? undefined : encodeHeaders(trailers);
    this.flush(stream);
  }

  /** Sends what the windows allow of a stream's body, then its trailers. */
  private flush(stream: H2Stream): void {
    const body = stream.pendingBody;
    if (body === undefined || stream.closed) return;
    let sent = 0;
    while (sent < body.length) {
      const size = Math.min(body.length - sent, stream.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (size <= 0) break;
      const last = sent + size === body.length && stream.pendingTrailers === undefined;
      this.write(frameOf(FRAME.data, last ? FLAG.endStream : 0, stream.id, body.subarray(sent, sent + size)));
      stream.sendWindow -= size;
      this.sendWindow -= size;
      sent += size;
    }
    if (sent < body.length) {
      stream.pendingBody = body.subarray(sent);
      return;
    }
    stream.pendingBody = undefined;
    if (body.length === 0 && stream.pendingTrailers === undefined)
      this.write(frameOf(FRAME.data, FLAG.endStream, stream.id, body));
    if (stream.pendingTrailers !== undefined) this.writeHeaders(stream.id, stream.pendingTrailers, true);
    this.localEnd(stream);
  }

  private flushAll(): void {
    for (const stream of this.streams.values()) if (stream.pendingBody !== undefined) this.flush(stream);
  }

  private writeHeaders(streamId: number, block: Buffer, endStream: boolean): void {
    const end = endStream ? FLAG.endStream : 0;
    if (block.length <= this.peerMaxFrame) {
      this.write(frameOf(FRAME.headers, end | FLAG.endHeaders, streamId, block));
      return;
    }
    for (let at = 0; at < block.length; at += this.peerMaxFrame) {
      const part = block.subarray(at, at + this.peerMaxFrame);
      const last = at + this.peerMaxFrame >= block.length ? FLAG.endHeaders : 0;
      this.write(frameOf(at === 0 ? FRAME.headers : FRAME.continuation, (at === 0 ? end : 0) | last, streamId, part));
    }
  }

  private localEnd(stream: H2Stream): void {
    stream.localEnded = true;
    // Answered before the request ended (an early refusal): the rest of it is not wanted (§8.1).
    if (!stream.remoteEnded) this.write(rstFrame(stream.id, H2_ERROR.none));
    this.closeIfDone(stream, !stream.remoteEnded);
  }

  private closeIfDone(stream: H2Stream, force = false): void {
    if (!force && !(stream.localEnded && stream.remoteEnded)) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.endIfIdle();
  }

  /** A stream error: reset the stream, abort its call, keep the connection. */
  private resetStream(streamId: number, code: number): void {
    this.write(rstFrame(streamId, code));
    this.drop(streamId);
  }

  private drop(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streams.delete(streamId);
    stream.closed = true;
    if (!stream.localEnded) stream.onAbort();
    this.endIfIdle();
  }

  /** A connection error: GOAWAY with the reason, then close (§5.4.1). */
  private fail(code: number, reason: string): void {
    if (this.closed) return;
    this.write(goawayFrame(this.lastStreamId, code, reason));
    this.closed = true;
    this.socket.end();
    this.abortAll();
  }

  /** What came was not HTTP/2: an HTTP/1 client gets a readable answer. */
  private notHttp2(): void {
    this.closed = true;
    this.socket.end(
      'HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n' +
        'This port speaks gRPC: HTTP/2 with prior knowledge.\n',
    );
  }

  private endIfIdle(): void {
    if (this.goingAway && this.streams.size === 0 && !this.closed) {
      this.closed = true;
      this.socket.end();
    }
  }

  private abortAll(): void {
    this.closed = true;
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const stream of open) {
      stream.closed = true;
      if (!stream.localEnded) stream.onAbort();
    }
  }

  private writeControl(frame: Buffer): void {
    if (this.socket.writableLength > MAX_UNSENT_BYTES)
      this.fail(H2_ERROR.calm, 'control frames sent faster than answers are read');
    else this.write(frame);
  }

  /** Writes made in one turn of the event loop go out in one system call. */
  private write(frame: Buffer): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }
}
