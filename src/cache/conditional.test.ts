// Validation (RFC 9111 §4.3) and clients' conditional requests (RFC 9110 §13),
// plus Vary's secondary keys (RFC 9111 §4.1).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { clientNotModified, notModifiedMatches, updatedBy304, validatorsOf } from './conditional.ts';
import { varyFields, varyKey } from './vary.ts';

describe('validation', () => {
  it('asks with If-None-Match and If-Modified-Since from the stored validators', () => {
    const lm = 'Sun, 06 Nov 1994 08:49:37 GMT';
    assert.deepEqual(validatorsOf({ etag: '"v1"', 'last-modified': lm }), {
      'if-none-match': '"v1"',
      'if-modified-since': lm,
    });
    assert.deepEqual(validatorsOf({}), {});
  });

  it('a 304 updates stored fields except the body-describing ones', () => {
    const stored = {
      etag: '"v1"',
      'cache-control': 'max-age=1',
      'content-length': '5',
      'content-encoding': 'gzip',
      vary: 'accept',
    };
    const updated = updatedBy304(stored, { 'cache-control': 'max-age=99', 'content-length': '0', 'x-new': 'y' });
    assert.deepEqual(updated, { ...stored, 'cache-control': 'max-age=99', 'x-new': 'y' });
  });

  it('a 304 matches the stored response by strong ETag, weak ETag, Last-Modified or neither', () => {
    assert.equal(notModifiedMatches({ etag: '"v1"' }, { etag: '"v1"' }), true);
    assert.equal(notModifiedMatches({ etag: 'W/"v1"' }, { etag: '"v1"' }), true);
    assert.equal(notModifiedMatches({ etag: '"v1"' }, { etag: '"v2"' }), false);
    assert.equal(notModifiedMatches({}, { etag: '"v1"' }), false);
    assert.equal(notModifiedMatches({ 'last-modified': 'a' }, { 'last-modified': 'a' }), true);
    assert.equal(notModifiedMatches({ etag: '"v1"' }, {}), true);
  });
});

describe("clients' conditional requests", () => {
  const stored = { etag: '"v1"', 'last-modified': 'Sun, 06 Nov 1994 08:49:37 GMT' };

  it('If-None-Match uses the weak comparison and wins over If-Modified-Since', () => {
    assert.equal(clientNotModified({ 'if-none-match': 'W/"v1"' }, 200, stored), true);
    assert.equal(clientNotModified({ 'if-none-match': '"x", "v1"' }, 200, stored), true);
    assert.equal(clientNotModified({ 'if-none-match': '*' }, 200, stored), true);
    const both = { 'if-none-match': '"v2"', 'if-modified-since': 'Mon, 07 Nov 1994 08:49:37 GMT' };
    assert.equal(clientNotModified(both, 200, stored), false);
  });

  it('If-Modified-Since compares dates, and only 200 responses are answered 304', () => {
    assert.equal(clientNotModified({ 'if-modified-since': 'Mon, 07 Nov 1994 08:49:37 GMT' }, 200, stored), true);
    assert.equal(clientNotModified({ 'if-modified-since': 'Sat, 05 Nov 1994 08:49:37 GMT' }, 200, stored), false);
    assert.equal(clientNotModified({ 'if-none-match': '"v1"' }, 404, stored), false);
    assert.equal(clientNotModified({}, 200, stored), false);
  });
});

describe('Vary', () => {
  it('names fields once, lower-case and sorted; normalizes whitespace in values', () => {
    assert.deepEqual(varyFields({ vary: 'Accept-Encoding, accept-language , Accept-Encoding' }), [
      'accept-encoding',
      'accept-language',
    ]);
    const fields = ['accept-encoding'];
    assert.equal(
      varyKey(fields, { 'accept-encoding': ' gzip,  br ' }),
      varyKey(fields, { 'accept-encoding': 'gzip, br' }),
    );
    assert.notEqual(varyKey(fields, { 'accept-encoding': 'gzip' }), varyKey(fields, {}));
    assert.equal(varyKey([], { 'accept-encoding': 'gzip' }), '');
  });
});
