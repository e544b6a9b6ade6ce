// The origin address check on its own: every refused range the issue names,
// their IPv4-mapped and other embedded forms, the allowlist, and public
// addresses that pass. Strings only: nothing here opens a connection.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { emptyAllowlist, judgeAddress, parseAllowlist, refusedCategory, type Allowlist } from './address-policy.ts';
import { inRange, parseCidr, parseIp } from './ip-address.ts';

const categoryOf = (address: string): string | undefined => {
  const ip = parseIp(address);
  assert.ok(ip !== undefined, `${address} parses`);
  return refusedCategory(ip)?.category;
};

const allowlist = (...entries: string[]): Allowlist => {
  const parsed = parseAllowlist(entries);
  assert.ok(!('error' in parsed), JSON.stringify(parsed));
  return parsed;
};

describe('origin address check', () => {
  it('refuses loopback, private, link-local, multicast and unspecified IPv4 addresses', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['169.254.0.1', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['100.64.0.1', 'shared'],
      ['255.255.255.255', 'reserved'],
    ];
    for (const [address, category] of cases) assert.equal(categoryOf(address), category, address);
  });

  it('refuses IPv6 loopback, unspecified, unique-local, link-local and multicast', () => {
    const cases: [string, string][] = [
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fc00::1', 'private'],
      ['fd12:3456:789a::1', 'private'],
      ['fe80::1', 'link-local'],
      ['ff02::1', 'multicast'],
    ];
    for (const [address, category] of cases) assert.equal(categoryOf(address), category, address);
  });

  it('judges IPv4-mapped, NAT64 and 6to4 addresses by the IPv4 address inside', () => {
    assert.equal(categoryOf('::ffff:127.0.0.1'), 'loopback');
    assert.equal(categoryOf('::ffff:7f00:1'), 'loopback');
    assert.equal(categoryOf('[::ffff:169.254.169.254]'), 'link-local');
    assert.equal(categoryOf('::ffff:10.1.2.3'), 'private');
    assert.equal(categoryOf('::ffff:0.0.0.0'), 'unspecified');
    assert.equal(categoryOf('64:ff9b::192.168.0.1'), 'private');
    assert.equal(categoryOf('2002:7f00:1::'), 'loopback');
    assert.equal(categoryOf('::ffff:8.8.8.8'), undefined);
  });

  it('lets public unicast addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '192.169.0.1', '2606:4700::1111']) {
      assert.equal(categoryOf(address), undefined, address);
    }
  });

  it('refuses text that is not an address, and malformed forms', () => {
    for (const text of ['localhost', '127.1', '0x7f.0.0.1', '0177.0.0.1', '1.2.3.4.5', '::1::', 'fe80::1%eth0', '']) {
      assert.equal(parseIp(text), undefined, text);
      assert.equal(judgeAddress('h', text, emptyAllowlist).allowed, false, text);
    }
  });

  it('a CIDR on the allowlist permits addresses inside it only', () => {
    const allow = allowlist('127.0.0.1/32', '10.1.0.0/16', 'fd00::/8');
    assert.equal(judgeAddress('h', '127.0.0.1', allow).allowed, true);
    assert.equal(judgeAddress('h', '::ffff:127.0.0.1', allow).allowed, true);
    assert.equal(judgeAddress('h', '127.0.0.2', allow).allowed, false);
    assert.equal(judgeAddress('h', '10.1.200.3', allow).allowed, true);
    assert.equal(judgeAddress('h', '10.2.0.1', allow).allowed, false);
    assert.equal(judgeAddress('h', 'fd00::5', allow).allowed, true);
    assert.equal(judgeAddress('h', 'fc00::5', allow).allowed, false);
  });

  it('a host on the allowlist may resolve anywhere; other hosts may not', () => {
    const allow = allowlist('origin.test');
    assert.equal(judgeAddress('ORIGIN.test.', '127.0.0.1', allow).allowed, true);
    const refused = judgeAddress('evil.test', '127.0.0.1', allow);
    assert.deepEqual(refused, { allowed: false, address: '127.0.0.1', category: 'loopback', range: '127.0.0.0/8' });
  });

  it('rejects allowlist entries that are neither host nor range', () => {
    assert.deepEqual(parseAllowlist(['10.0.0.0/33']), { error: '10.0.0.0/33' });
    assert.deepEqual(parseAllowlist(['http://x']), { error: 'http://x' });
  });

  it('matches CIDR prefixes bit by bit', () => {
    const range = parseCidr('172.16.0.0/12')!;
    assert.equal(inRange(parseIp('172.16.0.0')!, range), true);
    assert.equal(inRange(parseIp('172.31.255.255')!, range), true);
    assert.equal(inRange(parseIp('172.32.0.0')!, range), false);
    assert.equal(inRange(parseIp('::ffff:172.16.0.1')!, range), false, 'families never match each other directly');
  });
});
