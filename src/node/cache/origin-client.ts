import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
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
  /** Largest response body accepted. */
  readonly maxBodyBytes: number;
}

export interface OriginResponse {
  readonly status: number;
  /** Without hop-by-hop fields; repeated fields joined. */
  readonly headers: HeaderMap;
  readonly body: Buffer;
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
        const response = await this.once(target, address, headers, signal);
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

  private once(url: CacheUrl, address: string, headers: Record<string, string>, signal: AbortSignal) {
    const { maxBodyBytes } = this.options.limits;
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
          signal,
        },
        (response) => {
          const responseTimeMs = this.options.clock();
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > maxBodyBytes) {
            response.destroy();
            reject(tooLarge(url, maxBodyBytes));
            return;
          }
          const chunks: Buffer[] = [];
          let bytes = 0;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > maxBodyBytes) {
              response.destroy();
              reject(tooLarge(url, maxBodyBytes));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', (error) => reject(unreachable(url, address, error)));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 502,
              headers: endToEnd(response.headers),
              body: Buffer.concat(chunks, bytes),
              responseTimeMs,
            }),
          );
        },
      );
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

function tooLarge(url: CacheUrl, maxBodyBytes: number): WeftError {
  return new WeftError(
    'ORIGIN_TOO_LARGE',
    `${url.href} is larger than ${maxBodyBytes} bytes, the largest object weft caches (--cache-max-object-bytes)`,
  );
}

function unreachable(url: CacheUrl, address: string, error: Error): WeftError {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  return new WeftError('ORIGIN_UNREACHABLE', `cannot fetch ${url.href} from ${address}: ${code}`);
}
