import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { HeaderList } from '../h2/hpack.ts';
import { H2ServerConnection, type H2Stream, type IncomingHeaders } from '../h2/server-connection.ts';
import { WEFT_METADATA } from '../../kv/wire/messages.ts';

export interface UnaryGrpcServerOptions {
  /** Larger request messages are refused with RESOURCE_EXHAUSTED, as grpc-js does. */
  readonly maxReceiveMessageBytes: number;
}

interface Method {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: grpc.UntypedHandleCall;
}

const MESSAGE_HEADER_BYTES = 5;
const TIMEOUT_UNITS_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
/** Streams one connection may have open, and the request headers a call may carry (as grpc-js: 16 KiB). */
const MAX_CONCURRENT_STREAMS = 1000;
const MAX_HEADER_LIST_BYTES = 16 * 1024;

/**
 * A gRPC server for unary calls, for the client port (--client-port), on
 * weft's own HTTP/2 (src/api/h2): the etcd API is unary, and both grpc-js's
 * server and one on node:http2 cost more per call, in CPU and in garbage
 * collection (docs/decisions.md, "Client port").
 * It takes the same service definitions and handlers as grpc.Server
 * (`addService`), so the etcd services register on either. A streaming
 * method's handler is given the call and answers with the status it emits
 * (weft's only refuse: Maintenance.Snapshot is UNIMPLEMENTED).
 *
 * The wire protocol, as in gRPC's PROTOCOL-HTTP2.md: a POST with
 * content-type application/grpc, one length-prefixed message each way,
 * and the status in trailers (or in the headers of a "trailers-only"
 * answer); grpc-timeout is the caller's deadline.
 */
export class UnaryGrpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly server: net.Server;
  private readonly connections = new Set<H2ServerConnection>();

  constructor(private readonly options: UnaryGrpcServerOptions) {
    this.server = net.createServer((socket) => {
      const connection = new H2ServerConnection(
        socket,
        { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListBytes: MAX_HEADER_LIST_BYTES },
        (stream) => this.serve(stream),
      );
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** As grpc.Server's: every method of `service`, served by the handler of the same name. */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    for (const [name, definition] of Object.entries(service)) {
      const handler = implementation[name];
      if (handler !== undefined) this.methods.set(definition.path, { definition, handler });
    }
  }

  /** Listens on host:port (0 for any free port); resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops taking calls, lets calls in flight finish for up to `graceMs`, then closes every connection. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.shutdown();
    const timer = setTimeout(() => {
      for (const connection of this.connections) connection.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  private serve(stream: H2Stream): void {
    const { headers } = stream;
    const contentType = headers['content-type'];
    if (
      headers[':method'] !== 'POST' ||
      typeof contentType !== 'string' ||
      !contentType.startsWith('application/grpc')
    ) {
      stream.respond(
        [
          [':status', '415'],
          ['content-type', 'text/plain'],
        ],
        Buffer.from('gRPC calls only: a POST with content-type application/grpc\n'),
      );
      return;
    }
    if (stream.headerListBytes > MAX_HEADER_LIST_BYTES) {
      finish(stream, {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: `Request headers of ${stream.headerListBytes} bytes, over the ${MAX_HEADER_LIST_BYTES} allowed`,
      });
      return;
    }
    const path = headers[':path'];
    const method = typeof path === 'string' ? this.methods.get(path) : undefined;
    if (method === undefined) {
      finish(stream, {
        code: grpc.status.UNIMPLEMENTED,
        details: `The server does not implement the method ${String(path)}`,
      });
      return;
    }
    const deadline = deadlineOf(headers['grpc-timeout']);
    if (deadline === 'malformed') {
      finish(stream, {
        code: grpc.status.INTERNAL,
        details: `Invalid grpc-timeout value "${String(headers['grpc-timeout'])}"`,
      });
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    stream.onData = (chunk) => {
      if (stream.answered) return;
      received += chunk.length;
      if (received > this.options.maxReceiveMessageBytes + MESSAGE_HEADER_BYTES) {
        finish(stream, {
          code: grpc.status.RESOURCE_EXHAUSTED,
          details: `Received message larger than max (${received - MESSAGE_HEADER_BYTES} vs ${this.options.maxReceiveMessageBytes})`,
        });
        return;
      }
      chunks.push(chunk);
    };
    stream.onEnd = () => {
      if (stream.answered) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const request = readMessage(body);
      if (typeof request === 'string') {
        finish(stream, { code: grpc.status.INTERNAL, details: request });
        return;
      }
      this.call(stream, headers, method, request, deadline);
    };
  }

  private call(stream: H2Stream, headers: IncomingHeaders, method: Method, message: Buffer, deadline: number): void {
    const request = convert(stream, 'deserializing request', () => method.definition.requestDeserialize(message));
    if (request === undefined) return;
    const call = new UnaryCall(request, handlerMetadata(headers), deadline);
    let answered = false;
    // At the deadline the caller has given up: answer so, and let the handler's signal abort.
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => {
          call.emit('cancelled');
          answer({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
        }, deadline - Date.now())
      : undefined;
    const answer = (status: Partial<grpc.StatusObject>, response?: unknown): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (stream.closed) return;
      if (response === undefined) {
        finish(stream, status);
        return;
      }
      const body = convert(stream, 'serializing response', () => method.definition.responseSerialize(response));
      if (body === undefined) return;
      stream.respond(OK_HEADERS, frameMessage(body), OK_TRAILERS);
    };
    // The client gave up (RST_STREAM) or the connection went: the handler's signal aborts.
    stream.onAbort = () => {
      if (!answered) call.emit('cancelled');
      answered = true;
      clearTimeout(timer);
    };
    call.once('error', (status: Partial<grpc.StatusObject>) => answer(status));
    type Callback = (error: Partial<grpc.StatusObject> | null, response?: unknown) => void;
    const callback: Callback = (error, response) =>
      error === null ? answer({ code: grpc.status.OK }, response) : answer(error);
    const { definition, handler } = method;
    if (definition.requestStream || definition.responseStream) {
      // Streaming handlers are given the call; weft's answer with an 'error' status at once.
      (handler as (call: unknown) => void)(call);
      return;
    }
    (handler as (call: unknown, callback: Callback) => void)(call, callback);
  }
}

/** What a handler sees of a call: the grpc.ServerUnaryCall members the etcd handlers use (metadata: weft's keys). */
class UnaryCall extends EventEmitter {
  constructor(
    readonly request: unknown,
    readonly metadata: grpc.Metadata,
    private readonly deadline: number,
  ) {
    super();
  }

  getDeadline(): number {
    return this.deadline;
  }
}

/** The metadata keys the etcd handlers read (call-context.ts). */
const HANDLER_METADATA_KEYS = [WEFT_METADATA.requestId, WEFT_METADATA.memberName];

/**
 * A call's metadata as the handlers read it: weft's own keys, each value
 * added as grpc.Metadata.fromHttp2Headers adds it (one it rejects is left
 * out, as there). Converting every header, as that does, was a tenth of what
 * a call allocated, for keys no handler reads.
 */
function handlerMetadata(headers: IncomingHeaders): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const key of HANDLER_METADATA_KEYS) {
    const value = headers[key];
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      try {
        metadata.add(key, one);
      } catch {
        // Not a legal metadata value: left out, as grpc-js leaves it out.
      }
    }
  }
  return metadata;
}

/** Runs a message codec; a failure is answered INTERNAL (as grpc-js words it) and gives undefined. */
function convert<T>(stream: H2Stream, what: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    finish(stream, { code: grpc.status.INTERNAL, details: `Error ${what}: ${(error as Error).message}` });
    return undefined;
  }
}

/** The deadline (ms since the epoch) a grpc-timeout header asks for; Infinity without one. */
function deadlineOf(header: string | string[] | undefined): number | 'malformed' {
  if (header === undefined) return Infinity;
  const match = /^(\d{1,8})([HMSmun])$/.exec(String(header));
  if (match === null) return 'malformed';
  return Date.now() + Number(match[1]) * TIMEOUT_UNITS_MS[match[2]!]!;
}

/** The one message of a unary request body, or why it is not one. */
function readMessage(body: Buffer): Buffer | string {
  if (body.length < MESSAGE_HEADER_BYTES) return 'a unary call carries one length-prefixed message';
  if (body[0] !== 0) return 'compressed messages are not supported: send with grpc-encoding identity';
  const length = body.readUInt32BE(1);
  if (body.length !== MESSAGE_HEADER_BYTES + length) return 'a unary call carries exactly one message';
  return body.subarray(MESSAGE_HEADER_BYTES);
}

function frameMessage(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, MESSAGE_HEADER_BYTES);
  return frame;
}

const OK_HEADERS: HeaderList = [
  [':status', '200'],
  ['content-type', 'application/grpc'],
];
const OK_TRAILERS: HeaderList = [['grpc-status', String(grpc.status.OK)]];

/** A "trailers-only" answer: the status and its metadata in the response headers, and no body. */
function finish(stream: H2Stream, status: Partial<grpc.StatusObject>): void {
  if (stream.answered || stream.closed) return;
  const headers: HeaderList = [
    ...OK_HEADERS,
    ['grpc-status', String(status.code ?? grpc.status.UNKNOWN)],
    ['grpc-message', encodeStatusMessage(status.details ?? '')],
  ];
  for (const [name, value] of Object.entries(status.metadata?.toHttp2Headers() ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) headers.push([name, String(one)]);
  }
  stream.respond(headers);
}

/** grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself. */
function encodeStatusMessage(message: string): string {
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
