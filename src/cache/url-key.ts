/**
 * The cache key of a URL: the URL in one canonical spelling, so that
 * spellings of one resource share an entry and an owner. WHATWG URL parsing
 * already lower-cases the scheme and host, drops default ports, resolves dot
 * segments and writes IPv4 hosts in dotted decimal (so `http://2130706433/`
 * is `http://127.0.0.1/`); on top of that the fragment is dropped (it never
 * reaches a server) and anything but plain http(s) without credentials is
 * refused. The query is kept as given: its order can matter to the origin.
 */

/** Longest URL accepted, in UTF-16 code units after normalization (nginx's default large header buffer is 8 KiB). */
export const maxUrlLength = 8_192;

export interface CacheUrl {
  /** The canonical URL: the cache key. */
  readonly href: string;
  readonly protocol: 'http:' | 'https:';
  /** Host name or IP literal as URL parsing gives it (IPv6 inside brackets). */
  readonly hostname: string;
  readonly port: number;
}

export type UrlCheck = { readonly ok: true; readonly url: CacheUrl } | { readonly ok: false; readonly reason: string };

export function normalizeUrl(raw: string): UrlCheck {
  if (raw === '') return { ok: false, reason: 'give the URL to fetch as ?url=<encoded URL>' };
  if (raw.length > maxUrlLength) return { ok: false, reason: `the URL is longer than ${maxUrlLength} characters` };
  if (!URL.canParse(raw)) return { ok: false, reason: `${JSON.stringify(raw)} is not an absolute URL` };
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `only http and https URLs are cached, not ${url.protocol.slice(0, -1)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'URLs with credentials (user:password@) are not fetched' };
  }
  if (url.hostname === '') return { ok: false, reason: 'the URL has no host' };
  url.hash = '';
  const href = url.href;
  if (href.length > maxUrlLength) return { ok: false, reason: `the URL is longer than ${maxUrlLength} characters` };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { ok: true, url: { href, protocol: url.protocol, hostname: url.hostname, port } };
}
