import { assert } from '../core/assert.ts';
import { inRange, parseCidr, parseIp, type CidrRange, type IpAddress } from './ip-address.ts';

/**
 * Which origin addresses the cache may connect to (no SSRF through the
 * cache). An address in one of the ranges below is refused unless the
 * allowlist (--cache-allow) permits it. Addresses that embed an IPv4
 * address (IPv4-mapped, NAT64, 6to4) are judged by the embedded address, so
 * `::ffff:127.0.0.1` is loopback. Pure: parsing and matching only; resolving
 * names is the caller's job.
 */
export type AddressCategory =
  'loopback' | 'private' | 'link-local' | 'multicast' | 'unspecified' | 'shared' | 'reserved' | 'documentation';

interface Refused {
  readonly range: string;
  readonly cidr: CidrRange;
  readonly category: AddressCategory;
}

const refusedRanges: readonly Refused[] = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'shared'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'reserved'],
    ['192.0.2.0/24', 'documentation'],
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'reserved'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::/96', 'reserved'],
    ['64:ff9b:1::/48', 'private'],
    ['100::/64', 'reserved'],
    ['2001:db8::/32', 'documentation'],
    ['fc00::/7', 'private'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'private'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([range, category]) => ({ range, category, cidr: cidrOf(range) }));

/** IPv6 prefixes whose addresses carry an IPv4 address, and where it sits. */
const embedding: readonly { readonly cidr: CidrRange; readonly offset: number }[] = [
  { cidr: cidrOf('::ffff:0:0/96'), offset: 12 }, // IPv4-mapped (RFC 4291 §2.5.5.2)
  { cidr: cidrOf('64:ff9b::/96'), offset: 12 }, // NAT64 well-known prefix (RFC 6052)
  { cidr: cidrOf('2002::/16'), offset: 2 }, // 6to4 (RFC 3056)
];

/** The IPv4 address an IPv6 address stands for, if it embeds one. */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.family !== 6) return undefined;
  const hit = embedding.find((e) => inRange(ip, e.cidr));
  return hit === undefined ? undefined : { family: 4, bytes: ip.bytes.slice(hit.offset, hit.offset + 4) };
}

/** Why an address is not a public unicast address, or undefined when it is. */
export function refusedCategory(ip: IpAddress): { category: AddressCategory; range: string } | undefined {
  const judged = embeddedIpv4(ip) ?? ip;
  const hit = refusedRanges.find((r) => inRange(judged, r.cidr));
  return hit === undefined ? undefined : { category: hit.category, range: hit.range };
}

/** --cache-allow: host names (exact, case-insensitive) and IP ranges (a bare IP is a /32 or /128). */
export interface Allowlist {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly CidrRange[];
}

export const emptyAllowlist: Allowlist = { hosts: new Set(), ranges: [] };

const hostnamePattern = /^[a-z0-9]([a-z0-9-]{0,62}\.?)*$/i;

/** Parse allowlist entries; returns the bad entry's text as `error` when one is neither a host nor a CIDR. */
export function parseAllowlist(entries: readonly string[]): Allowlist | { error: string } {
  const hosts = new Set<string>();
  const ranges: CidrRange[] = [];
  for (const entry of entries.map((e) => e.trim()).filter((e) => e !== '')) {
    const cidr = parseCidr(entry);
    if (cidr !== undefined) ranges.push(cidr);
    else if (!entry.includes('/') && hostnamePattern.test(entry)) hosts.add(entry.toLowerCase().replace(/\.$/, ''));
    else return { error: entry };
  }
  return { hosts, ranges };
}

export type AddressVerdict =
  | { readonly allowed: true; readonly address: string }
  | { readonly allowed: false; readonly address: string; readonly category: AddressCategory; readonly range: string };

/**
 * Judge one address an origin host resolved to. A host on the allowlist
 * may use any address; otherwise the address must be public or inside an
 * allowed range. Text that is not an IP address is refused as unspecified.
 */
export function judgeAddress(hostname: string, address: string, allow: Allowlist): AddressVerdict {
  const ip = parseIp(address);
  if (ip === undefined) return { allowed: false, address, category: 'unspecified', range: 'not an IP address' };
  if (allow.hosts.has(hostname.toLowerCase().replace(/\.$/, ''))) return { allowed: true, address };
  const refused = refusedCategory(ip);
  if (refused === undefined) return { allowed: true, address };
  const judged = embeddedIpv4(ip);
  if (allow.ranges.some((r) => inRange(ip, r) || (judged !== undefined && inRange(judged, r)))) {
    return { allowed: true, address };
  }
  return { allowed: false, address, ...refused };
}

function cidrOf(text: string): CidrRange {
  const cidr = parseCidr(text);
  assert(cidr !== undefined, `built-in range ${text} parses`);
  return cidr;
}
