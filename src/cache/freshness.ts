import { deltaSeconds, noDirectives, parseCacheControl, type Directives } from './cache-control.ts';
import { parseHttpDate } from './http-date.ts';

/** Header fields by lower-case name; repeated fields joined with ", " (RFC 9110 §5.3). */
export type HeaderMap = Readonly<Record<string, string>>;

export interface FreshnessOptions {
  /** Heuristic lifetime as a fraction of the time since Last-Modified (RFC 9111 §4.2.2 suggests 10%). */
  readonly heuristicFraction: number;
  /** The heuristic lifetime never exceeds this. */
  readonly heuristicMaxSeconds: number;
}

export const defaultFreshnessOptions: FreshnessOptions = { heuristicFraction: 0.1, heuristicMaxSeconds: 86_400 };

/**
 * What the cache keeps to decide whether a stored response may be reused
 * (RFC 9111 §4.2). Plain numbers only, so it travels to peers unchanged.
 */
export interface Freshness {
  /** When the response (or the 304 that last validated it) was received. */
  readonly responseTimeMs: number;
  /** §4.2.3 corrected_initial_age. */
  readonly correctedInitialAgeSeconds: number;
  /** §4.2.1 freshness_lifetime. */
  readonly lifetimeSeconds: number;
  /** RFC 5861 §3: how long past its lifetime it may be served while it is revalidated. */
  readonly staleWhileRevalidateSeconds: number;
  /** RFC 5861 §4: how long past its lifetime it may be served when the origin fails. */
  readonly staleIfErrorSeconds: number;
  /** must-revalidate, proxy-revalidate or s-maxage: never served stale (§5.2.2.2, §5.2.2.8, §5.2.2.10). */
  readonly mustRevalidate: boolean;
  /** no-cache: validated before every reuse (§5.2.2.4). */
  readonly noCache: boolean;
}

/** Statuses this cache stores; 206 is left out because ranges are not supported. */
const understoodStatuses = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);
/** RFC 9110 §15.1: cacheable without explicit freshness (heuristics allowed). */
const heuristicStatuses = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export function responseDirectives(headers: HeaderMap): Directives {
  const cc = headers['cache-control'];
  // §5.4: Pragma is deprecated; a response Pragma: no-cache without Cache-Control is still honoured, conservatively.
  if (cc === undefined && /no-cache/i.test(headers['pragma'] ?? '')) return parseCacheControl('no-cache');
  return parseCacheControl(cc);
}

export function requestDirectives(headers: HeaderMap): Directives {
  const cc = headers['cache-control'];
  if (cc === undefined && /no-cache/i.test(headers['pragma'] ?? '')) return parseCacheControl('no-cache');
  return cc === undefined ? noDirectives : parseCacheControl(cc);
}

/** RFC 9111 §4.2.1–§4.2.3 at the moment a response is received. */
export function freshnessOf(
  status: number,
  headers: HeaderMap,
  timing: { readonly requestTimeMs: number; readonly responseTimeMs: number },
  options: FreshnessOptions = defaultFreshnessOptions,
): Freshness {
  const cc = responseDirectives(headers);
  const dateMs = parseHttpDate(headers['date']) ?? timing.responseTimeMs;
  const ageValue = /^\d+$/.test(headers['age'] ?? '') ? Number(headers['age']) : 0;
  const apparentAge = Math.max(0, timing.responseTimeMs - dateMs) / 1000;
  const responseDelay = Math.max(0, timing.responseTimeMs - timing.requestTimeMs) / 1000;
  return {
    responseTimeMs: timing.responseTimeMs,
    correctedInitialAgeSeconds: Math.max(apparentAge, ageValue + responseDelay),
    lifetimeSeconds: lifetimeOf(status, headers, cc, dateMs, options),
    staleWhileRevalidateSeconds: deltaSeconds(cc, 'stale-while-revalidate') ?? 0,
    staleIfErrorSeconds: deltaSeconds(cc, 'stale-if-error') ?? 0,
    mustRevalidate: cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage'),
    noCache: cc.has('no-cache'),
  };
}

function lifetimeOf(
  status: number,
  headers: HeaderMap,
  cc: Directives,
  dateMs: number,
  options: FreshnessOptions,
): number {
  // A shared cache prefers s-maxage, then max-age, then Expires (§4.2.1).
  const explicit = deltaSeconds(cc, 's-maxage') ?? deltaSeconds(cc, 'max-age');
  if (explicit !== undefined) return explicit;
  if (headers['expires'] !== undefined) {
    const expiresMs = parseHttpDate(headers['expires']);
    // §5.3: an invalid Expires, such as "0", means already expired.
    return expiresMs === undefined ? 0 : Math.max(0, (expiresMs - dateMs) / 1000);
  }
  const lastModifiedMs = parseHttpDate(headers['last-modified']);
  if (lastModifiedMs === undefined || !(heuristicStatuses.has(status) || cc.has('public'))) return 0;
  const heuristic = (Math.max(0, dateMs - lastModifiedMs) / 1000) * options.heuristicFraction;
  return Math.min(options.heuristicMaxSeconds, Math.floor(heuristic));
}

export type Storability = { readonly storable: true } | { readonly storable: false; readonly reason: string };

/**
 * May a shared cache store this response to a GET (RFC 9111 §3)? Besides
 * the RFC's rules, a response that sets a cookie is not stored (nginx and
 * Varnish do the same), nor one that could never be reused: no lifetime,
 * no validator and no stale-* extension.
 */
export function storability(
  status: number,
  headers: HeaderMap,
  request: Directives,
  freshness: Freshness,
): Storability {
  const cc = responseDirectives(headers);
  if (request.has('no-store')) return { storable: false, reason: 'the request said no-store' };
  if (!understoodStatuses.has(status)) return { storable: false, reason: `status ${status} is not cached` };
  if (cc.has('no-store')) return { storable: false, reason: 'no-store' };
  if (cc.has('private')) return { storable: false, reason: 'private' };
  if (headers['set-cookie'] !== undefined) return { storable: false, reason: 'the response sets a cookie' };
  if ((headers['vary'] ?? '').split(',').some((f) => f.trim() === '*')) return { storable: false, reason: 'Vary: *' };
  const explicit = cc.has('max-age') || cc.has('s-maxage') || cc.has('public') || headers['expires'] !== undefined;
  if (!explicit && !heuristicStatuses.has(status)) {
    return { storable: false, reason: `status ${status} without explicit freshness` };
  }
  const validator = headers['etag'] !== undefined || headers['last-modified'] !== undefined;
  const reusable =
    freshness.lifetimeSeconds > 0 || freshness.staleWhileRevalidateSeconds > 0 || freshness.staleIfErrorSeconds > 0;
  if (!validator && (!reusable || freshness.noCache)) {
    return { storable: false, reason: 'no freshness lifetime and no validator' };
  }
  return { storable: true };
}

/** §4.2.3 current_age, in seconds. */
export function currentAgeSeconds(freshness: Freshness, nowMs: number): number {
  return freshness.correctedInitialAgeSeconds + Math.max(0, nowMs - freshness.responseTimeMs) / 1000;
}

/** How long the response stays fresh from now; 0 when it is stale or needs validation on every use. */
export function remainingFreshMs(freshness: Freshness, nowMs: number): number {
  if (freshness.noCache) return 0;
  return Math.max(0, (freshness.lifetimeSeconds - currentAgeSeconds(freshness, nowMs)) * 1000);
}

/**
 * How a stored response may answer a request (§4, §5.2.1, RFC 5861):
 * `fresh` — serve it; `stale` — serve it stale, the client allowed it
 * (max-stale); `stale-while-revalidate` — serve it stale and revalidate in
 * the background; `validate` — ask the origin first.
 */
export type Reuse = 'fresh' | 'stale' | 'stale-while-revalidate' | 'validate';

export function reuseOf(freshness: Freshness, request: Directives, nowMs: number): Reuse {
  const age = currentAgeSeconds(freshness, nowMs);
  if (freshness.noCache || request.has('no-cache')) return 'validate';
  const maxAge = deltaSeconds(request, 'max-age');
  if (maxAge !== undefined && age > maxAge) return 'validate';
  const minFresh = deltaSeconds(request, 'min-fresh') ?? 0;
  if (age + minFresh < freshness.lifetimeSeconds) return 'fresh';
  // Still fresh but not for min-fresh more seconds, or stale where the origin forbids serving stale.
  if (age < freshness.lifetimeSeconds || freshness.mustRevalidate) return 'validate';
  const staleness = age - freshness.lifetimeSeconds;
  const maxStale = request.get('max-stale');
  if (maxStale === true || (maxStale !== undefined && staleness <= (deltaSeconds(request, 'max-stale') ?? 0))) {
    return 'stale';
  }
  if (staleness < freshness.staleWhileRevalidateSeconds) return 'stale-while-revalidate';
  return 'validate';
}

/** RFC 5861 §4: may it stand in for an origin that failed (error, timeout, 5xx)? */
export function usableOnError(freshness: Freshness, nowMs: number): boolean {
  if (freshness.mustRevalidate) return false;
  return currentAgeSeconds(freshness, nowMs) - freshness.lifetimeSeconds < freshness.staleIfErrorSeconds;
}
