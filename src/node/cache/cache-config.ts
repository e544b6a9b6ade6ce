import { parseAllowlist } from '../../cache/address-policy.ts';
import { integer, type Schema } from '../../core/config-schema.ts';
import { ConfigError } from '../../core/errors.ts';

/** The web cache's settings, part of the node's config schema (docs/config.md, docs/cache.md). */
export interface CacheConfig {
  readonly cacheMaxBytes: number;
  readonly cacheMaxObjectBytes: number;
  /** Host names and IP ranges the origin check lets through (--cache-allow). */
  readonly cacheAllow: readonly string[];
  readonly cacheOriginTimeoutMs: number;
  readonly cacheMaxRedirects: number;
  readonly cacheHotRps: number;
  readonly cacheNearTtlMs: number;
  readonly cacheNearMaxBytes: number;
  readonly cacheRouteTtlMs: number;
}

const mib = 1024 * 1024;
/** One object travels between nodes in one peer message (16 MiB at most), with room for its headers. */
export const maxObjectBytesLimit = 15 * mib;

export const cacheConfigSchema: Schema<CacheConfig> = {
  cacheMaxBytes: {
    doc: 'Bytes of responses (bodies and headers) this node stores for the web cache; least recently used URLs go first',
    placeholder: '<bytes>',
    parse: integer(mib, 2 ** 40),
    default: 256 * mib,
  },
  cacheMaxObjectBytes: {
    doc: `Largest response the web cache stores, in bytes (at most ${maxObjectBytesLimit}); a larger one is streamed to the client uncached (X-Cache: MISS)`,
    placeholder: '<bytes>',
    parse: integer(1024, maxObjectBytesLimit),
    default: 8 * mib,
  },
  cacheAllow: {
    doc: 'Origins the web cache may fetch although their address is loopback, private, link-local, multicast or unspecified: host names or IP ranges (CIDR), comma-separated',
    placeholder: '<host|cidr,...>',
    parse: (raw, field) => {
      const entries = String(raw)
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== '');
      const parsed = parseAllowlist(entries);
      if ('error' in parsed) {
        throw new ConfigError(
          field,
          `${JSON.stringify(parsed.error)} is neither a host name nor an IP range like 10.0.0.0/8`,
        );
      }
      return entries;
    },
    default: [],
  },
  cacheOriginTimeoutMs: {
    doc: 'How long one origin fetch may take, redirects included, before it fails with 504 ORIGIN_TIMEOUT',
    placeholder: '<ms>',
    parse: integer(100, 600_000, ' ms'),
    default: 10_000,
  },
  cacheMaxRedirects: {
    doc: 'Redirects an origin fetch follows (each target checked like the first); 0 hands redirects to the client',
    placeholder: '<n>',
    parse: integer(0, 20),
    default: 5,
  },
  cacheHotRps: {
    doc: 'Requests per second for one URL at which it is hot: kept on the next successor too, and in the entry node near-cache',
    placeholder: '<n>',
    parse: integer(1, 1_000_000),
    default: 20,
  },
  cacheNearTtlMs: {
    doc: 'How long an entry node keeps a hot URL in its near-cache (never past the response freshness); 0 turns the near-cache off',
    placeholder: '<ms>',
    parse: integer(0, 60_000, ' ms'),
    default: 1_000,
  },
  cacheNearMaxBytes: {
    doc: 'Bytes of the entry node near-cache of hot URLs',
    placeholder: '<bytes>',
    parse: integer(mib, 2 ** 36),
    default: 32 * mib,
  },
  cacheRouteTtlMs: {
    doc: 'How long an entry node trusts a learned owner of a stretch of the ring before looking it up again',
    placeholder: '<ms>',
    parse: integer(100, 3_600_000, ' ms'),
    default: 30_000,
  },
};

export function checkCacheConfig(config: CacheConfig): void {
  if (config.cacheMaxObjectBytes > config.cacheMaxBytes) {
    throw new ConfigError('cache-max-object-bytes', 'must not exceed --cache-max-bytes');
  }
  if (config.cacheMaxObjectBytes > config.cacheNearMaxBytes && config.cacheNearTtlMs > 0) {
    throw new ConfigError('cache-near-max-bytes', 'must hold at least one object of --cache-max-object-bytes');
  }
}
