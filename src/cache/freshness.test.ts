// RFC 9111 freshness as the pure policy computes it: Cache-Control parsing,
// HTTP dates, lifetimes (s-maxage, max-age, Expires, heuristics), the §4.2.3
// age, storability, and how a stored response may be reused for a request.
// Time is a number passed in; no clock is read.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { deltaSeconds, parseCacheControl } from './cache-control.ts';
import {
  currentAgeSeconds,
  freshnessOf,
  remainingFreshMs,
  requestDirectives,
  reuseOf,
  storability,
  usableOnError,
  type HeaderMap,
} from './freshness.ts';
import { parseHttpDate } from './http-date.ts';

const t0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const timing = { requestTimeMs: t0, responseTimeMs: t0 };
const fresh = (headers: HeaderMap, status = 200) => freshnessOf(status, { date: httpDate(t0), ...headers }, timing);
const noRequest = requestDirectives({});
const at = (seconds: number): number => t0 + seconds * 1000;

describe('Cache-Control and HTTP dates', () => {
  it('parses directives case-insensitively, with quoted values holding commas', () => {
    const cc = parseCacheControl('Max-Age=60, no-cache="set-cookie, x-id", public , S-MAXAGE="30"');
    assert.equal(cc.get('max-age'), '60');
    assert.equal(cc.get('no-cache'), 'set-cookie, x-id');
    assert.equal(cc.get('public'), true);
    assert.equal(deltaSeconds(cc, 's-maxage'), 30);
  });

  it('reads a conflicting or malformed delta-seconds as 0, and caps huge ones at 2^31', () => {
    assert.equal(deltaSeconds(parseCacheControl('max-age=60, max-age=120'), 'max-age'), 0);
    assert.equal(deltaSeconds(parseCacheControl('max-age=60, max-age=60'), 'max-age'), 60);
    assert.equal(deltaSeconds(parseCacheControl('max-age=-1'), 'max-age'), 0);
    assert.equal(deltaSeconds(parseCacheControl('max-age'), 'max-age'), 0);
    assert.equal(deltaSeconds(parseCacheControl('max-age=99999999999'), 'max-age'), 2 ** 31);
    assert.equal(deltaSeconds(parseCacheControl('public'), 'max-age'), undefined);
  });

  it('parses the three HTTP-date formats and nothing else', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), expected);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), expected);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), expected);
    assert.equal(parseHttpDate(httpDate(t0)), t0);
    assert.equal(parseHttpDate('Sat, 29 Feb 2020 23:59:59 GMT'), Date.UTC(2020, 1, 29, 23, 59, 59));
    for (const bad of ['0', '-1', 'tomorrow', '2026-11-22T12:00:00Z', 'Sun, 06 Foo 1994 08:49:37 GMT']) {
      assert.equal(parseHttpDate(bad), undefined, bad);
    }
  });
});

describe('freshness lifetime (RFC 9111 §4.2.1, §4.2.2)', () => {
  it('prefers s-maxage, then max-age, then Expires minus Date', () => {
    assert.equal(fresh({ 'cache-control': 's-maxage=30, max-age=60', expires: httpDate(at(90)) }).lifetimeSeconds, 30);
    assert.equal(fresh({ 'cache-control': 'max-age=60', expires: httpDate(at(90)) }).lifetimeSeconds, 60);
    assert.equal(fresh({ expires: httpDate(at(90)) }).lifetimeSeconds, 90);
  });

  it('treats an invalid or past Expires as already expired', () => {
    assert.equal(fresh({ expires: '0' }).lifetimeSeconds, 0);
    assert.equal(fresh({ expires: httpDate(at(-10)) }).lifetimeSeconds, 0);
  });

  it('uses 10% of the time since Last-Modified when nothing explicit is given, capped at a day', () => {
    assert.equal(fresh({ 'last-modified': httpDate(at(-1000)) }).lifetimeSeconds, 100);
    assert.equal(fresh({ 'last-modified': httpDate(at(-100 * 86_400)) }).lifetimeSeconds, 86_400);
    assert.equal(fresh({ 'last-modified': httpDate(at(-1000)) }, 302).lifetimeSeconds, 0, 'not for a 302');
    assert.equal(fresh({}).lifetimeSeconds, 0);
  });

  it('marks must-revalidate, proxy-revalidate and s-maxage as never served stale', () => {
    for (const cc of ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 's-maxage=1']) {
      assert.equal(fresh({ 'cache-control': cc }).mustRevalidate, true, cc);
    }
    assert.equal(fresh({ 'cache-control': 'max-age=1' }).mustRevalidate, false);
  });
});

describe('age (RFC 9111 §4.2.3)', () => {
  it('adds the Age header, the response delay and the time spent in the cache', () => {
    const f = freshnessOf(200, { date: httpDate(t0), age: '10' }, { requestTimeMs: t0 - 2000, responseTimeMs: t0 });
    assert.equal(f.correctedInitialAgeSeconds, 12);
    assert.equal(currentAgeSeconds(f, at(5)), 17);
  });

  it('takes the apparent age from an origin Date in the past', () => {
    const f = freshnessOf(200, { date: httpDate(at(-30)) }, timing);
    assert.equal(f.correctedInitialAgeSeconds, 30);
  });
});

describe('reuse of a stored response', () => {
  const maxAge60 = fresh({ 'cache-control': 'max-age=60' });

  it('is fresh before max-age and must be validated after', () => {
    assert.equal(reuseOf(maxAge60, noRequest, at(59)), 'fresh');
    assert.equal(reuseOf(maxAge60, noRequest, at(60)), 'validate');
    assert.equal(remainingFreshMs(maxAge60, at(20)), 40_000);
  });

  it('no-cache in the response means validate on every use', () => {
    assert.equal(reuseOf(fresh({ 'cache-control': 'no-cache, max-age=60' }), noRequest, at(1)), 'validate');
    assert.equal(reuseOf(fresh({ pragma: 'no-cache' }), noRequest, at(0)), 'validate');
  });

  it('must-revalidate is fresh while fresh (unlike http-cache-semantics 4.3.0) and never stale', () => {
    const f = fresh({ 'cache-control': 'max-age=60, must-revalidate, stale-while-revalidate=30' });
    assert.equal(reuseOf(f, noRequest, at(30)), 'fresh');
    assert.equal(reuseOf(f, noRequest, at(70)), 'validate');
    assert.equal(
      usableOnError(fresh({ 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60' }), at(5)),
      false,
    );
  });

  it('honours the request directives no-cache, max-age, min-fresh and max-stale', () => {
    const req = (cc: string) => requestDirectives({ 'cache-control': cc });
    assert.equal(reuseOf(maxAge60, req('no-cache'), at(1)), 'validate');
    assert.equal(reuseOf(maxAge60, requestDirectives({ pragma: 'no-cache' }), at(1)), 'validate');
    assert.equal(reuseOf(maxAge60, req('max-age=10'), at(11)), 'validate');
    assert.equal(reuseOf(maxAge60, req('max-age=10'), at(9)), 'fresh');
    assert.equal(reuseOf(maxAge60, req('min-fresh=30'), at(40)), 'validate');
    assert.equal(reuseOf(maxAge60, req('max-stale=20'), at(70)), 'stale');
    assert.equal(reuseOf(maxAge60, req('max-stale=5'), at(70)), 'validate');
    assert.equal(reuseOf(maxAge60, req('max-stale'), at(10_000)), 'stale');
  });

  it('stale-while-revalidate serves stale inside its window only', () => {
    const f = fresh({ 'cache-control': 'max-age=10, stale-while-revalidate=20' });
    assert.equal(reuseOf(f, noRequest, at(5)), 'fresh');
    assert.equal(reuseOf(f, noRequest, at(25)), 'stale-while-revalidate');
    assert.equal(reuseOf(f, noRequest, at(31)), 'validate');
  });

  it('stale-if-error covers an origin failure inside its window only', () => {
    const f = fresh({ 'cache-control': 'max-age=10, stale-if-error=60' });
    assert.equal(usableOnError(f, at(50)), true);
    assert.equal(usableOnError(f, at(71)), false);
  });
});

describe('storability (RFC 9111 §3)', () => {
  const check = (headers: HeaderMap, status = 200, request: HeaderMap = {}) =>
    storability(status, headers, requestDirectives(request), fresh(headers, status));

  it('stores explicit freshness, heuristic statuses with validators, and public', () => {
    assert.deepEqual(check({ 'cache-control': 'max-age=60' }), { storable: true });
    assert.deepEqual(check({ etag: '"a"' }), { storable: true });
    assert.deepEqual(check({ 'cache-control': 'max-age=60' }, 404), { storable: true });
    assert.deepEqual(check({ 'cache-control': 'public, max-age=5' }, 302), { storable: true });
  });

  it('refuses no-store, private, cookies, Vary: * and unknown statuses', () => {
    const reason = (headers: HeaderMap, status = 200, request: HeaderMap = {}) => {
      const verdict = check(headers, status, request);
      return verdict.storable ? 'stored' : verdict.reason;
    };
    assert.equal(reason({ 'cache-control': 'no-store, max-age=60' }), 'no-store');
    assert.equal(
      reason({ 'cache-control': 'max-age=60' }, 200, { 'cache-control': 'no-store' }),
      'the request said no-store',
    );
    assert.equal(reason({ 'cache-control': 'private, max-age=60' }), 'private');
    assert.equal(reason({ 'cache-control': 'max-age=60', 'set-cookie': 'a=1' }), 'the response sets a cookie');
    assert.equal(reason({ 'cache-control': 'max-age=60', vary: 'Accept, *' }), 'Vary: *');
    assert.equal(reason({ 'cache-control': 'max-age=60' }, 500), 'status 500 is not cached');
    assert.equal(reason({ 'cache-control': 'max-age=60' }, 206), 'status 206 is not cached');
    assert.equal(reason({}, 302), 'status 302 without explicit freshness');
    assert.equal(reason({}), 'no freshness lifetime and no validator');
  });
});
