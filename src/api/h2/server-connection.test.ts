import { strict as assert } from 'node:assert';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeHeaders } from './hpack.ts';
import { H2_ERROR } from './frames.ts';
import { H2ServerConnection, type H2Stream } from './server-connection.ts';

// The HTTP/2 server connection at the protocol level: against node:http2's
// client (nghttp2: Huffman, the dynamic table, flow control as a real peer
// does it) and against raw frames for what a well-behaved client never sends.
describe('H2ServerConnection', () => {
  const aborted: number[] = [];
  const connections: H2ServerConnection[] = [];
  let server: net.Server;
  let port = 0;

  /** Echoes the body back, with a trailer; /hang never answers; /early answers before the body ends. */
  const serve = (stream: H2Stream): void => {
    const chunks: Buffer[] = [];
    stream.onAbort = () => aborted.push(stream.id);
    if (stream.headers[':path'] === '/early') {
      stream.respond([[':status', '413']]);
      return;
    }
    stream.onData = (chunk) => chunks.push(Buffer.from(chunk));
    stream.onEnd = () => {
      if (stream.headers[':path'] === '/hang') return;
      stream.respond([[':status', '200']], Buffer.concat(chunks), [['x-echoed', String(stream.headers['x-tag'])]]);
    };
  };

  before(async () => {
    server = net.createServer((socket) =>
      connections.push(new H2ServerConnection(socket, { maxConcurrentStreams: 8, maxHeaderListBytes: 4096 }, serve)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    for (const connection of connections) connection.destroy();
    server.close();
  });

  async function exchange(
    session: http2.ClientHttp2Session,
    path: string,
    body: Buffer,
    tag = 'x',
    headers: http2.OutgoingHttpHeaders = {},
  ): Promise<{ status: number; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'x-tag': tag, ...headers });
      const chunks: Buffer[] = [];
      let status = 0;
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks), trailers }));
      stream.on('error', reject);
      stream.end(body);
    });
  }

  it('carries bodies past every flow-control window both ways, on many streams at once', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      // 3 MiB: past the connection's 65,535 bytes and our 1 MiB stream window coming in, and
      // past the client's 65,535-byte windows going out.
      const big = Buffer.alloc(3 << 20);
      for (let i = 0; i < big.length; i += 1) big[i] = (i * 7) & 0xff;
      const answers = await Promise.all([
        exchange(session, '/echo', big, 'big'),
        ...Array.from({ length: 6 }, (_, i) => exchange(session, '/echo', Buffer.from(`small ${i}`), `s${i}`)),
      ]);
      assert.equal(answers[0]!.status, 200);
      assert.ok(answers[0]!.body.equals(big));
      assert.equal(answers[0]!.trailers['x-echoed'], 'big');
      answers.slice(1).forEach((answer, i) => {
        assert.equal(answer.body.toString(), `small ${i}`);
        assert.equal(answer.trailers['x-echoed'], `s${i}`);
      });
      await new Promise<void>((resolve, reject) =>
        session.ping((error) => (error === null ? resolve() : reject(error))),
      );
    } finally {
      session.close();
    }
  });

  it('headers named like Object.prototype members are plain headers', { timeout: 5_000 }, async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const answer = await exchange(session, '/echo', Buffer.from('proto'), 't', {
        constructor: 'c',
        hasownproperty: 'h',
      } as unknown as http2.OutgoingHttpHeaders);
      assert.deepEqual({ status: answer.status, body: answer.body.toString() }, { status: 200, body: 'proto' });
    } finally {
      session.close();
    }
  });

  it('an answer given before the request ends resets the rest of it, and the connection serves on', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const early = await new Promise<number>((resolve) => {
        const stream = session.request({ ':method': 'POST', ':path': '/early' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', () => undefined);
        stream.write(Buffer.alloc(100_000));
      });
      assert.equal(early, 413);
      assert.equal((await exchange(session, '/echo', Buffer.from('after'))).body.toString(), 'after');
    } finally {
      session.close();
    }
  });

  it('a stream the client resets is aborted for its handler', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const id = await new Promise<number>((resolve) => {
        const stream = session.request({ ':method': 'POST', ':path': '/hang' });
        stream.on('error', () => undefined);
        stream.end(Buffer.from('x'));
        setTimeout(() => {
          const streamId = stream.id!;
          stream.close(http2.constants.NGHTTP2_CANCEL);
          resolve(streamId);
        }, 30);
      });
      for (let i = 0; i < 50 && !aborted.includes(id); i += 1) await new Promise((r) => setTimeout(r, 10));
      assert.ok(aborted.includes(id));
    } finally {
      session.close();
    }
  });

  it('shutdown sends GOAWAY, answers the streams in flight, then closes', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    const answer = exchange(session, '/echo', Buffer.from('in flight'));
    await new Promise((r) => setTimeout(r, 50));
    connections.at(-1)!.shutdown();
    assert.equal(await goaway, H2_ERROR.none);
    assert.equal((await answer).body.toString(), 'in flight');
    await new Promise<void>((resolve) => session.once('close', resolve));
  });

  describe('raw frames', () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
      const header = Buffer.alloc(9);
      header.writeUIntBE(payload.length, 0, 3);
      header[3] = type;
      header[4] = flags;
      header.writeUInt32BE(stream, 5);
      return Buffer.concat([header, payload]);
    };
    const request = (stream: number, endStream: boolean): Buffer =>
      frame(
        1,
        0x4 | (endStream ? 1 : 0),
        stream,
        encodeHeaders([
          [':method', 'POST'],
          [':path', '/hang'],
        ]),
      );

    /** Sends `bytes` after the preface and an empty SETTINGS; resolves with everything received until close. */
    async function talk(bytes: Buffer, withPreface = true): Promise<Buffer> {
      const socket = net.connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(withPreface ? Buffer.concat([preface, frame(4, 0, 0, Buffer.alloc(0)), bytes]) : bytes);
      const timer = setTimeout(() => socket.destroy(), 2_000);
      await closed;
      clearTimeout(timer);
      return Buffer.concat(received);
    }

    /** The frames in a byte stream, as [type, flags, stream, payload]. */
    function frames(bytes: Buffer): [number, number, number, Buffer][] {
      const out: [number, number, number, Buffer][] = [];
      for (let at = 0; at + 9 <= bytes.length;) {
        const length = bytes.readUIntBE(at, 3);
        out.push([bytes[at + 3]!, bytes[at + 4]!, bytes.readUInt32BE(at + 5), bytes.subarray(at + 9, at + 9 + length)]);
        at += 9 + length;
      }
      return out;
    }
    const goawayCode = (bytes: Buffer): number | undefined => {
      const goaway = frames(bytes).find(([type]) => type === 7);
      return goaway?.[3].readUInt32BE(4);
    };

    it('answers an HTTP/1 request with a readable refusal', async () => {
      const answer = await talk(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'), false);
      assert.match(answer.toString('latin1'), /^HTTP\/1\.1 505 [\s\S]*HTTP\/2 with prior knowledge/);
    });

    it('ends the connection with GOAWAY and the right code for frames it cannot accept', async () => {
      const cases: [string, Buffer, number][] = [
        ['a frame over 16 KiB', frame(0, 0, 1, Buffer.alloc(16_385)), H2_ERROR.frameSize],
        ['an invalid header block', frame(1, 0x5, 1, Buffer.from([0x80])), H2_ERROR.compression],
        ['DATA on a stream never opened', frame(0, 0, 5, Buffer.from('x')), H2_ERROR.protocol],
        ['a stream id going backwards', Buffer.concat([request(5, true), request(3, true)]), H2_ERROR.protocol],
        [
          'a header block interrupted',
          Buffer.concat([frame(1, 0, 1, Buffer.from([0x83])), frame(6, 0, 0, Buffer.alloc(8))]),
          H2_ERROR.protocol,
        ],
        ['PUSH_PROMISE from a client', frame(5, 0x4, 1, Buffer.alloc(4)), H2_ERROR.protocol],
        ['a PING of 7 bytes', frame(6, 0, 0, Buffer.alloc(7)), H2_ERROR.frameSize],
      ];
      for (const [what, bytes, code] of cases) assert.equal(goawayCode(await talk(bytes)), code, what);
    });

    it('cuts off a client that sends PINGs without reading the answers', async () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.pause();
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const ping = frame(6, 0, 0, Buffer.alloc(8));
      // 16 MiB of answers: more than the kernel's socket buffers hold, so they wait in the server.
      const pings = Buffer.concat([preface, frame(4, 0, 0, Buffer.alloc(0)), ...Array(1 << 20).fill(ping)]);
      socket.write(pings);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const received: Buffer[] = [];
      await new Promise((r) => setTimeout(r, 1_500));
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.resume();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
      socket.destroy();
      assert.equal(goawayCode(Buffer.concat(received)), H2_ERROR.calm);
    });

    it('refuses streams past its limit with REFUSED_STREAM and serves the rest', async () => {
      const socket = net.connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const opens = Array.from({ length: 9 }, (_, i) => request(1 + 2 * i, true));
      socket.write(Buffer.concat([preface, frame(4, 0, 0, Buffer.alloc(0)), ...opens]));
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      const resets = frames(Buffer.concat(received)).filter(([type]) => type === 3);
      assert.deepEqual(
        resets.map(([, , stream, payload]) => [stream, payload.readUInt32BE(0)]),
        [[17, H2_ERROR.refused]],
      );
    });
  });
});
