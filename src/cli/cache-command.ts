import { parseArgs } from 'node:util';
import { ConfigError, describeError } from '../core/errors.ts';
import type { CacheStats } from '../node/cache/web-cache.ts';
import { readClusterFile } from './cluster-file.ts';
import { printColumns } from './table.ts';

export const cacheHelp = [
  'weft cache: the web cache from the command line, over a node HTTP API.',
  '',
  'Usage:',
  '  weft cache get <url> [--endpoint url] [--include]   fetch <url> through the cache; body on stdout',
  '  weft cache stats [--endpoints url,...]              one row per node, and the cluster total',
  '  weft cache purge <url> [--endpoint url]             remove <url> from every node that holds it',
  '',
  'Flags:',
  '  --endpoint <url>       the HTTP URL of the node to enter through (default: the first node of',
  '                         <data-dir>/cluster.json, else http://127.0.0.1:8081)',
  '  --endpoints <url,...>  nodes for stats (default: every node of <data-dir>/cluster.json)',
  '  --data-dir <dir>       where `weft up` wrote cluster.json (default .weft)',
  '  --include              get: print the status line and response headers before the body',
  'get prints "<status> <X-Cache> from <X-Cache-Node> age=<s> bytes=<n> | latency=<ms>" on stderr.',
  'Exit status 1 when the node answers with an error.',
].join('\n');

const requestTimeoutMs = 30_000;

export async function runCache(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCacheArgs(argv);
  const [action, target, ...extra] = positionals;
  if (values.help === true || action === undefined) {
    console.log(cacheHelp);
    return action === undefined && values.help !== true ? 2 : 0;
  }
  if (extra.length > 0) throw new ConfigError(extra[0] ?? 'arguments', 'unexpected argument; quote the URL');
  const dataDir = values['data-dir'] ?? '.weft';
  switch (action) {
    case 'get':
      return get(await endpointOf(values.endpoint, dataDir), urlArgument(target), values.include === true);
    case 'purge':
      return purge(await endpointOf(values.endpoint, dataDir), urlArgument(target));
    case 'stats':
      return stats(await endpointsOf(values.endpoints, dataDir));
    default:
      throw new ConfigError(action, 'unknown cache command; use get, stats or purge');
  }
}

function parseCacheArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        endpoint: { type: 'string' },
        endpoints: { type: 'string' },
        'data-dir': { type: 'string' },
        include: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft cache --help`);
  }
}

function urlArgument(url: string | undefined): string {
  if (url === undefined) throw new ConfigError('url', 'give the URL, e.g. weft cache get https://example.com/');
  return url;
}

async function endpointOf(endpoint: string | undefined, dataDir: string): Promise<string> {
  if (endpoint !== undefined) return checkedEndpoint(endpoint, 'endpoint');
  return (await readClusterFile(dataDir))?.[0]?.httpUrl ?? 'http://127.0.0.1:8081';
}

async function endpointsOf(endpoints: string | undefined, dataDir: string): Promise<string[]> {
  if (endpoints !== undefined) {
    return endpoints
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')
      .map((e) => checkedEndpoint(e, 'endpoints'));
  }
  const nodes = await readClusterFile(dataDir);
  return nodes === undefined ? ['http://127.0.0.1:8081'] : nodes.map((n) => n.httpUrl);
}

function checkedEndpoint(endpoint: string, field: string): string {
  if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
    throw new ConfigError(field, `${JSON.stringify(endpoint)} is not an http:// URL`);
  }
  return endpoint;
}

function cacheUrl(endpoint: string, url: string): URL {
  const target = new URL('/cache', endpoint);
  target.searchParams.set('url', url);
  return target;
}

async function get(endpoint: string, url: string, include: boolean): Promise<number> {
  const started = performance.now();
  const response = await fetch(cacheUrl(endpoint, url), { signal: AbortSignal.timeout(requestTimeoutMs) });
  const body = Buffer.from(await response.arrayBuffer());
  const latencyMs = (performance.now() - started).toFixed(2);
  const xCache = response.headers.get('x-cache');
  if (xCache === null) return reportError(response.status, body);
  if (include) {
    process.stdout.write(`HTTP ${response.status} ${response.statusText}\n`);
    response.headers.forEach((value, name) => process.stdout.write(`${name}: ${value}\n`));
    process.stdout.write('\n');
  }
  process.stdout.write(body);
  const node = response.headers.get('x-cache-node') ?? '?';
  const age = response.headers.get('age') ?? '0';
  console.error(`${response.status} ${xCache} from ${node} age=${age} bytes=${body.length} | latency=${latencyMs}ms`);
  return 0;
}

async function purge(endpoint: string, url: string): Promise<number> {
  const response = await fetch(cacheUrl(endpoint, url), {
    method: 'DELETE',
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (!response.ok) return reportError(response.status, body);
  const answer = JSON.parse(body.toString('utf8')) as { url: string; removed: number; nodes: number };
  console.log(`Purged ${answer.url}: ${answer.removed} stored responses removed on ${answer.nodes} nodes`);
  return 0;
}

function reportError(status: number, body: Buffer): number {
  let message = body.toString('utf8');
  try {
    const parsed = JSON.parse(message) as { error?: { code?: string; message?: string } };
    if (parsed.error !== undefined) message = `${parsed.error.code}: ${parsed.error.message}`;
  } catch {
    // not JSON: print as received
  }
  console.error(`weft cache: HTTP ${status}: ${message}`);
  return 1;
}

async function stats(endpoints: readonly string[]): Promise<number> {
  const rows = await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        const response = await fetch(new URL('/v1/cache/stats', endpoint), { signal: AbortSignal.timeout(5_000) });
        return { endpoint, stats: (await response.json()) as CacheStats };
      } catch (error) {
        return { endpoint, error: describeError(error) };
      }
    }),
  );
  const header = [
    'NODE',
    'HITS',
    'MISSES',
    'REVALIDATED',
    'STALE',
    'HIT RATIO',
    'COALESCED',
    'STORED',
    'EVICTIONS',
    'ORIGIN P50/P99 MS',
  ];
  const lines = rows.map((row) => {
    const s = row.stats;
    if (s === undefined) return [row.endpoint, `down (${row.error ?? 'no answer'})`, '', '', '', '', '', '', '', ''];
    return statsLine(s.node, s);
  });
  const good = rows.flatMap((r) => (r.stats === undefined ? [] : [r.stats]));
  lines.push(statsLine('total', sumStats(good)));
  printColumns([header, ...lines]);
  return good.length === rows.length ? 0 : 1;
}

type Summable = Pick<
  CacheStats,
  'hits' | 'misses' | 'revalidated' | 'stale' | 'coalesced' | 'storedBytes' | 'storedUrls' | 'evictions'
> & {
  originLatencyMs: CacheStats['originLatencyMs'];
};

function sumStats(all: readonly CacheStats[]): Summable {
  const sum = (pick: (s: CacheStats) => number): number => all.reduce((total, s) => total + pick(s), 0);
  return {
    hits: sum((s) => s.hits),
    misses: sum((s) => s.misses),
    revalidated: sum((s) => s.revalidated),
    stale: sum((s) => s.stale),
    coalesced: sum((s) => s.coalesced),
    storedBytes: sum((s) => s.storedBytes),
    storedUrls: sum((s) => s.storedUrls),
    evictions: sum((s) => s.evictions),
    originLatencyMs: null,
  };
}

function statsLine(node: string, s: Summable): string[] {
  const answered = s.hits + s.stale + s.misses + s.revalidated;
  const ratio = answered === 0 ? '-' : `${(((s.hits + s.stale) / answered) * 100).toFixed(1)}%`;
  const latency = s.originLatencyMs === null ? '-' : `${s.originLatencyMs.p50}/${s.originLatencyMs.p99}`;
  const stored = `${s.storedUrls} urls, ${s.storedBytes} B`;
  return [
    node,
    ...[s.hits, s.misses, s.revalidated, s.stale].map(String),
    ratio,
    String(s.coalesced),
    stored,
    String(s.evictions),
    latency,
  ];
}
