import { strict as assert } from 'node:assert';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { UnaryGrpcServer } from './unary-grpc-server.ts';

// The client port's gRPC server, at the protocol level: what it answers to
// calls grpc-js and etcd clients would not make as well as to those they do.
const identity = (bytes: Buffer): Buffer => bytes;
const method = (path: string, responseStream = false): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const service: grpc.ServiceDefinition = {
  Echo: method('/test.T/Echo'),
  Fail: method('/test.T/Fail'),
  Hang: method('/test.T/Hang'),
  Stream: method('/test.T/Stream', true),
  Meta: method('/test.T/Meta'),
};

interface Answer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

function frame(message: Buffer, compressed = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = compressed;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

describe('UnaryGrpcServer', () => {
  const server = new UnaryGrpcServer({ maxReceiveMessageBytes: 100 });
  const cancelled: string[] = [];
  let session: http2.ClientHttp2Session;
  let port = 0;

  before(async () => {
    server.addService(service, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.concat([Buffer.from('echo:'), call.request])),
      Fail: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => {
        const metadata = new grpc.Metadata();
        metadata.set('weft-code', 'KEY_TOO_LARGE');
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'größer als 100% erlaubt', metadata });
      },
      Hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
        call.once('cancelled', () => cancelled.push(call.request.toString()));
      },
      Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'no streams here' }),
      Meta: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.from(JSON.stringify(call.metadata.toJSON()))),
    });
    port = await server.listen('127.0.0.1', 0);
    session = http2.connect(`http://127.0.0.1:${port}`);
  });
  after(async () => {
    session.close();
    await server.close(100);
  });

  function request(
    path: string,
    body: Buffer,
    headers: http2.OutgoingHttpHeaders = {},
    options: { cancelAfterMs?: number } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...headers,
      });
      let responseHeaders: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () =>
        resolve({
          status: Number(responseHeaders[':status']),
          headers: responseHeaders,
          trailers,
          body: Buffer.concat(chunks),
        }),
      );
      stream.on('error', reject);
      stream.end(body);
      if (options.cancelAfterMs !== undefined)
        setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), options.cancelAfterMs);
    });
  }

  it('answers a call with one framed message and status 0 in the trailers', async () => {
    const answer = await request('/test.T/Echo', frame(Buffer.from('hi')));
    assert.equal(answer.status, 200);
    assert.equal(answer.trailers['grpc-status'], '0');
    assert.deepEqual(answer.body, frame(Buffer.from('echo:hi')));
  });

  it('a handler error is a trailers-only answer: code, percent-encoded message and metadata', async () => {
    const answer = await request('/test.T/Fail', frame(Buffer.from('x')));
    assert.equal(answer.headers['grpc-status'], String(grpc.status.INVALID_ARGUMENT));
    assert.equal(answer.headers['grpc-message'], 'gr%C3%B6%C3%9Fer als 100%25 erlaubt');
    assert.equal(decodeURIComponent(String(answer.headers['grpc-message'])), 'größer als 100% erlaubt');
    assert.equal(answer.headers['weft-code'], 'KEY_TOO_LARGE');
    assert.equal(answer.body.length, 0);
  });

  it("a handler sees weft's metadata keys, as grpc-js would give them, and no others", async () => {
    const answer = await request('/test.T/Meta', frame(Buffer.alloc(0)), {
      'weft-request-id': '42',
      'weft-member-name': 'n4',
      'x-other': 'ignored',
      'user-agent': 'test',
    });
    assert.equal(answer.trailers['grpc-status'], '0');
    assert.deepEqual(JSON.parse(answer.body.subarray(5).toString()), {
      'weft-request-id': ['42'],
      'weft-member-name': ['n4'],
    });
    const none = await request('/test.T/Meta', frame(Buffer.alloc(0)));
    assert.deepEqual(JSON.parse(none.body.subarray(5).toString()), {});
  });

  it('an unknown method is UNIMPLEMENTED, naming it', async () => {
    const answer = await request('/test.T/Nope', frame(Buffer.from('x')));
    assert.equal(answer.headers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
    assert.match(String(answer.headers['grpc-message']), /does not implement the method \/test.T\/Nope/);
  });

  it('request headers over 16 KiB are RESOURCE_EXHAUSTED, naming their size', async () => {
    const answer = await request('/test.T/Echo', frame(Buffer.from('x')), { 'x-big': 'h'.repeat(20_000) });
    assert.equal(answer.headers['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED));
    assert.match(String(answer.headers['grpc-message']), /Request headers of \d+ bytes, over the 16384 allowed/);
  });

  it('a streaming method answers with the status its handler emits', async () => {
    const answer = await request('/test.T/Stream', frame(Buffer.from('x')));
    assert.equal(answer.headers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
    assert.equal(answer.headers['grpc-message'], 'no streams here');
  });

  it('refuses what is not a gRPC call with HTTP 415', async () => {
    const answer = await request('/test.T/Echo', Buffer.from('{}'), { 'content-type': 'application/json' });
    assert.equal(answer.status, 415);
  });

  it('a message over the limit is RESOURCE_EXHAUSTED', async () => {
    const answer = await request('/test.T/Echo', frame(Buffer.alloc(101)));
    assert.equal(answer.headers['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED));
    assert.match(String(answer.headers['grpc-message']), /larger than max \(101 vs 100\)/);
  });

  it('a body that is not exactly one uncompressed message is INTERNAL, saying why', async () => {
    const two = await request('/test.T/Echo', Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]));
    assert.equal(two.headers['grpc-status'], String(grpc.status.INTERNAL));
    assert.match(String(two.headers['grpc-message']), /exactly one message/);
    const short = await request('/test.T/Echo', Buffer.from([0, 0]));
    assert.match(String(short.headers['grpc-message']), /one length-prefixed message/);
    const compressed = await request('/test.T/Echo', frame(Buffer.from('a'), 1));
    assert.match(String(compressed.headers['grpc-message']), /grpc-encoding identity/);
  });

  it('past the grpc-timeout the call is DEADLINE_EXCEEDED and its handler sees it cancelled', async () => {
    const answer = await request('/test.T/Hang', frame(Buffer.from('deadline')), { 'grpc-timeout': '50m' });
    assert.equal(answer.headers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED));
    assert.ok(cancelled.includes('deadline'));
    const malformed = await request('/test.T/Echo', frame(Buffer.from('a')), { 'grpc-timeout': 'soon' });
    assert.equal(malformed.headers['grpc-status'], String(grpc.status.INTERNAL));
  });

  it('a call the client cancels is cancelled for its handler', async () => {
    await request('/test.T/Hang', frame(Buffer.from('reset')), {}, { cancelAfterMs: 30 });
    for (let i = 0; i < 50 && !cancelled.includes('reset'); i += 1) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cancelled.includes('reset'));
  });

  it('a client resetting a call with an error code cancels it and leaves the server serving', async () => {
    await new Promise<void>((resolve) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/test.T/Hang',
        'content-type': 'application/grpc',
      });
      stream.on('error', () => undefined);
      stream.on('close', () => resolve());
      stream.end(frame(Buffer.from('internal')));
      setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 30);
    });
    for (let i = 0; i < 50 && !cancelled.includes('internal'); i += 1) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cancelled.includes('internal'));
    const answer = await request('/test.T/Echo', frame(Buffer.from('still')));
    assert.deepEqual(answer.body, frame(Buffer.from('echo:still')));
  });

  it('a grpc-js client calls it like any gRPC server', async () => {
    const Client = grpc.makeGenericClientConstructor(service, 'T');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const echoed = await new Promise<Buffer>((resolve, reject) =>
        (client as unknown as Record<string, grpc.requestCallback<Buffer> & ((...a: unknown[]) => void)>)['Echo']!(
          Buffer.from('js'),
          (error: grpc.ServiceError | null, value?: Buffer) => (error === null ? resolve(value!) : reject(error)),
        ),
      );
      assert.equal(echoed.toString(), 'echo:js');
      const failure = await new Promise<grpc.ServiceError>((resolve) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>)['Fail']!(
          Buffer.from('x'),
          (error: grpc.ServiceError | null) => resolve(error!),
        ),
      );
      assert.equal(failure.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(failure.details, 'größer als 100% erlaubt');
      assert.deepEqual(failure.metadata.get('weft-code'), ['KEY_TOO_LARGE']);
    } finally {
      client.close();
    }
  });
});
