import type { HeaderMap } from './freshness.ts';
import { parseHttpDate } from './http-date.ts';

/**
 * Conditional requests: the cache's own validation of a stored response
 * (RFC 9111 §4.3.1, §4.3.4) and its answers to clients' conditional GETs
 * (RFC 9110 §13.1.1, §13.1.3, §13.2.2).
 */

/** Headers that ask the origin whether the stored response is still current. */
export function validatorsOf(stored: HeaderMap): Record<string, string> {
  const headers: Record<string, string> = {};
  const etag = stored['etag'];
  const lastModified = stored['last-modified'];
  if (etag !== undefined) headers['if-none-match'] = etag;
  if (lastModified !== undefined) headers['if-modified-since'] = lastModified;
  return headers;
}

/**
 * Fields a 304 must not change in the stored response (§3.2): the body is
 * the stored one, so its length and coding stay, and the variant selection
 * stays as stored.
 */
const keptOnUpdate = new Set(['content-length', 'content-encoding', 'content-range', 'transfer-encoding', 'vary']);

/** §4.3.4: the stored header fields, updated with those of a 304. */
export function updatedBy304(stored: HeaderMap, notModified: HeaderMap): Record<string, string> {
  const headers: Record<string, string> = { ...stored };
  for (const [name, value] of Object.entries(notModified)) {
    if (!keptOnUpdate.has(name)) headers[name] = value;
  }
  return headers;
}

/**
 * §4.3.4: does a 304 refer to the stored response? A strong ETag in the 304
 * must equal the stored one; otherwise the stored response is selected
 * when its validators (weakly) agree or when neither carries one.
 */
export function notModifiedMatches(stored: HeaderMap, notModified: HeaderMap): boolean {
  const etag = notModified['etag'];
  const storedEtag = stored['etag'];
  if (etag !== undefined) return storedEtag !== undefined && opaque(etag) === opaque(storedEtag);
  const lastModified = notModified['last-modified'];
  if (lastModified !== undefined) return stored['last-modified'] === lastModified;
  return true;
}

/**
 * Would the client's conditional GET/HEAD be answered 304 by this stored
 * 200 response? If-None-Match (weak comparison) takes precedence over
 * If-Modified-Since (RFC 9110 §13.2.2).
 */
export function clientNotModified(request: HeaderMap, status: number, stored: HeaderMap): boolean {
  if (status !== 200) return false;
  const ifNoneMatch = request['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = stored['etag'];
    if (ifNoneMatch.trim() === '*') return true;
    if (etag === undefined) return false;
    return ifNoneMatch.split(',').some((candidate) => opaque(candidate) === opaque(etag));
  }
  const since = parseHttpDate(request['if-modified-since']);
  const lastModified = parseHttpDate(stored['last-modified']);
  return since !== undefined && lastModified !== undefined && lastModified <= since;
}

/** Header fields a 304 carries to the client (RFC 9110 §15.4.5). */
export const notModifiedFields = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary'] as const;

/** The opaque part of an entity tag, for the weak comparison (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}
