// The cache key: one spelling per resource, and refusals with a reason.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { maxUrlLength, normalizeUrl } from './url-key.ts';

const href = (raw: string): string => {
  const checked = normalizeUrl(raw);
  assert.ok(checked.ok, raw);
  return checked.url.href;
};
const reason = (raw: string): string => {
  const checked = normalizeUrl(raw);
  assert.ok(!checked.ok, raw);
  return checked.reason;
};

describe('URL normalization', () => {
  it('gives spellings of one resource one key', () => {
    assert.equal(href('HTTP://Example.COM:80/a/./b/../c?x=1#frag'), 'http://example.com/a/c?x=1');
    assert.equal(href('https://example.com:443'), 'https://example.com/');
    assert.equal(href('http://2130706433/'), 'http://127.0.0.1/', 'numeric IPv4 hosts are dotted');
    assert.equal(href('http://[0:0::1]:8080/'), 'http://[::1]:8080/');
  });

  it('keeps the query as given (its order can matter to the origin)', () => {
    assert.notEqual(href('http://e.com/?a=1&b=2'), href('http://e.com/?b=2&a=1'));
  });

  it('refuses other schemes, credentials, relative and oversized URLs', () => {
    assert.match(reason('ftp://e.com/x'), /only http and https/);
    assert.match(reason('file:///etc/passwd'), /only http and https/);
    assert.match(reason('http://user:pw@e.com/'), /credentials/);
    assert.match(reason('/relative'), /not an absolute URL/);
    assert.match(reason(''), /give the URL/);
    assert.match(reason(`http://e.com/${'a'.repeat(maxUrlLength)}`), /longer than/);
  });
});
