import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { judgeAddress, type Allowlist } from '../../cache/address-policy.ts';
import type { HeaderMap } from '../../cache/freshness.ts';
import { normalizeUrl, type CacheUrl } from '../../cache/url-key.ts';
import { WeftError } from '../../core/errors.ts';

/** Names to addresses. Injected so tests resolve names to loopback without DNS. */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface OriginLimits {
  /** The whole fetch, redirects included. */
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  /** Largest response body read whole (and so stored); a larger one is streamed (`stream`). */
  readonly maxBodyBytes: number;
}

export interface OriginResponse {
  readonly status: number;
  /** Without hop-by-hop fields; repeated fields joined. */
  readonly headers: HeaderMap;
  /** The whole body; empty when `stream` is set. */
  readonly body: Buffer;
  /**
   * A body over maxBodyBytes (declared, or found while reading): the whole
   * body as a stream, read with backpressure, never stored. Its consumer
   * must read it to the end or destroy it (which closes the origin
   * connection). It fails, rather than ends, if the origin's body breaks off.
   */
  readonly stream?: Readable;
  readonly redirects: number;
  /** A 302/303/307 was followed: the answer is only good for this request. */
  readonly temporaryRedirect: boolean;
  readonly requestTimeMs: number;
  readonly responseTimeMs: number;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Fetches origins safely: only http(s); every host (and every redirect's
 * host) is resolved through the injected resolver, each address judged by
 * the address policy, and the connection pinned to the judged address (the
 * socket's lookup returns it), so a second DNS answer cannot slip a private
 * address in. One deadline bounds the whole fetch; the body is bounded too.
 */
export class OriginClient {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };

  constructor(
    private readonly options: {
      readonly resolver: Resolver;
      readonly allow: Allowlist;
      readonly limits: OriginLimits;
      readonly clock: () => number;
    },
  ) {}

  async fetch(url: CacheUrl, headers: Record<string, string>, stop: AbortSignal): Promise<OriginResponse> {
    const { limits } = this.options;
    const timeout = AbortSignal.timeout(limits.timeoutMs);
    const signal = AbortSignal.any([timeout, stop]);
    let target = url;
    let temporaryRedirect = false;
    try {
      for (let redirects = 0; ; redirects += 1) {
        const address = await this.addressOf(target);
        const requestTimeMs = this.options.clock();
        const response = await this.once(target, address, headers, signal, stop);
        const location = response.headers['location'];
        if (!redirectStatuses.has(response.status) || location === undefined || limits.maxRedirects === 0) {
          return { ...response, redirects, temporaryRedirect, requestTimeMs };
        }
        if (redirects >= limits.maxRedirects) {
          throw new WeftError(
            'TOO_MANY_REDIRECTS',
            `${url.href} redirected more than ${limits.maxRedirects} times; raise --cache-max-redirects or fetch the final URL`,
          );
        }
        response.stream?.destroy();
        temporaryRedirect ||= ![301, 308].includes(response.status);
        target = redirectTarget(target, location);
      }
    } catch (error) {
      if (timeout.aborted) {
        throw new WeftError(
          'ORIGIN_TIMEOUT',
          `${url.hostname} did not answer within ${limits.timeoutMs} ms (--cache-origin-timeout-ms)`,
        );
      }
      if (stop.aborted) throw new WeftError('ABORTED', 'the node is stopping');
      throw error;
    }
  }

  /** Resolve and judge; the first allowed address is the one connected to. */
  private async addressOf(url: CacheUrl): Promise<string> {
    const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let addresses: readonly string[];
    if (/^[\d.]+$/.test(literal) || literal.includes(':')) addresses = [literal];
    else {
      try {
        addresses = await this.options.resolver(literal);
      } catch (error) {
        throw new WeftError(
          'ORIGIN_UNREACHABLE',
          `cannot resolve ${literal}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    }
    const verdicts = addresses.map((a) => judgeAddress(literal, a, this.options.allow));
    const allowed = verdicts.find((v) => v.allowed);
    if (allowed !== undefined) return allowed.address;
    const refused = verdicts.find((v) => !v.allowed);
    if (refused === undefined || refused.allowed) {
      throw new WeftError('ORIGIN_UNREACHABLE', `${literal} resolved to no address`);
    }
    const via = refused.address === literal ? refused.address : `${literal} resolves to ${refused.address}`;
    throw new WeftError(
      'ORIGIN_REFUSED',
      `refused to fetch ${url.href}: ${via}, a ${refused.category} address (${refused.range}); weft fetches only public addresses unless --cache-allow names the host or a range holding the address`,
      { address: refused.address, category: refused.category },
    );
  }

  /**
   * One request. `signal` (the fetch's deadline, or the node stopping)
   * aborts it until the body is read whole; a body handed on as a stream
   * leaves that deadline behind and gets an idle one instead (see streamed),
   * so a large download is not cut at --cache-origin-timeout-ms.
   */
  private once(
    url: CacheUrl,
    address: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    stop: AbortSignal,
  ) {
    const { maxBodyBytes, timeoutMs } = this.options.limits;
    const family = address.includes(':') ? 6 : 4;
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all === true)
        (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const parsed = new URL(url.href);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<Omit<OriginResponse, 'redirects' | 'temporaryRedirect' | 'requestTimeMs'>>((resolve, reject) => {
      const request = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port,
          path: `${parsed.pathname}${parsed.search}`,
          method: 'GET',
          headers: { ...headers, via: '1.1 weft' },
          agent: this.agents[url.protocol],
          lookup: pinned,
        },
        (response) => {
          const responseTimeMs = this.options.clock();
          const head = {
            status: response.statusCode ?? 502,
            headers: endToEnd(response.headers),
            body: Buffer.alloc(0),
            responseTimeMs,
          };
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > maxBodyBytes) {
            signal.removeEventListener('abort', abort);
            resolve({ ...head, stream: streamed([], response, { url, address, stop, idleMs: timeoutMs }) });
            return;
          }
          const chunks: Buffer[] = [];
          let bytes = 0;
          const onData = (chunk: Buffer): void => {
            bytes += chunk.length;
            chunks.push(chunk);
            if (bytes <= maxBodyBytes) return;
            // Longer than it said, or undeclared: what came so far, then the rest as it comes.
            response.pause();
            response.off('data', onData);
            response.off('end', onEnd);
            signal.removeEventListener('abort', abort);
            resolve({ ...head, stream: streamed(chunks, response, { url, address, stop, idleMs: timeoutMs }) });
          };
          const onEnd = (): void => resolve({ ...head, body: Buffer.concat(chunks, bytes) });
          response.on('data', onData);
          response.on('error', (error) => reject(unreachable(url, address, error)));
          response.on('end', onEnd);
        },
      );
      const abort = (): void => {
        request.destroy(signal.reason as Error);
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      request.on('close', () => signal.removeEventListener('abort', abort));
      request.on('error', (error) => reject(unreachable(url, address, error)));
      request.end();
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

function redirectTarget(from: CacheUrl, location: string): CacheUrl {
  const resolved = URL.canParse(location, from.href) ? new URL(location, from.href).href : location;
  const checked = normalizeUrl(resolved);
  if (!checked.ok) {
    throw new WeftError(
      'ORIGIN_REFUSED',
      `${from.href} redirected to ${JSON.stringify(location)}, which is not followed: ${checked.reason}`,
    );
  }
  return checked.url;
}

/** Response fields minus hop-by-hop ones (RFC 9110 §7.6.1), including those the Connection field names. */
function endToEnd(raw: http.IncomingHttpHeaders): Record<string, string> {
  const named = new Set(
    String(raw['connection'] ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim()),
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || hopByHop.has(name) || named.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * A body too large to store, as a stream: `first` (already read), then the
 * rest of `response` as the consumer reads it. Pulling through the async
 * iterator keeps the origin socket paused while the consumer is slow;
 * destroying the stream closes the origin connection. Waiting for the
 * origin has an idle deadline (`idleMs` for each chunk; time the consumer
 * takes does not count). A body cut short (the origin closed early, went
 * idle, or the node is stopping) fails the stream rather than ending it.
 */
function streamed(
  first: readonly Buffer[],
  response: http.IncomingMessage,
  context: { readonly url: CacheUrl; readonly address: string; readonly stop: AbortSignal; readonly idleMs: number },
): Readable {
  const { url, address, stop, idleMs } = context;
  let failure: WeftError | undefined;
  const fail = (error: WeftError): void => {
    failure ??= error;
    response.destroy(error);
  };
  const stopping = (): void => fail(new WeftError('ABORTED', 'the node is stopping'));
  async function* chunks(): AsyncGenerator<Buffer> {
    stop.addEventListener('abort', stopping, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      yield* first;
      const reading = response[Symbol.asyncIterator]();
      for (;;) {
        timer = setTimeout(
          () => fail(new WeftError('ORIGIN_TIMEOUT', `${url.href} sent no part of its body for ${idleMs} ms`)),
          idleMs,
        );
        const next = (await reading.next()) as IteratorResult<Buffer>;
        clearTimeout(timer);
        if (next.done === true) break;
        yield next.value;
      }
    } catch (error) {
      throw failure ?? unreachable(url, address, error as Error);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', stopping);
      response.destroy();
    }
    if (!response.complete) {
      throw new WeftError('ORIGIN_UNREACHABLE', `${url.href}: the origin closed the connection mid-body`);
    }
  }
  const body = Readable.from(chunks(), { objectMode: false });
  // Destroying the body ends the generator only once its pending read settles: close the socket
  // first, so a client that leaves frees the origin connection now, not at the next chunk.
  const destroyBody = body._destroy.bind(body);
  body._destroy = (error, callback) => {
    response.destroy();
    destroyBody(error, callback);
  };
  return body;
}

function unreachable(url: CacheUrl, address: string, error: Error): WeftError {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  return new WeftError('ORIGIN_UNREACHABLE', `cannot fetch ${url.href} from ${address}: ${code}`);
}
