import { describeSchema, resolveConfig, text, type Schema } from '../core/config-schema.ts';
import { ConfigError, describeError } from '../core/errors.ts';
import type { HealthReport } from '../node/node.ts';
import { parseFlags } from './args.ts';
import { readClusterFile } from './cluster-file.ts';
import { printColumns } from './table.ts';

export interface StatusConfig {
  readonly endpoints: string;
  readonly dataDir: string;
}

export const statusSchema: Schema<StatusConfig> = {
  endpoints: {
    doc: 'Comma-separated HTTP URLs of the nodes',
    placeholder: '<url,...>',
    parse: text(),
    default: '',
    defaultDoc: 'read from <data-dir>/cluster.json',
  },
  dataDir: { doc: 'Where `weft up` wrote cluster.json', placeholder: '<dir>', parse: text(), default: '.weft' },
};

export const statusHelp = [
  'weft status: a table of the nodes and their health; exit status 1 when one is down.',
  '',
  'Flags:',
  ...describeSchema(statusSchema),
].join('\n');

interface Row {
  readonly endpoint: string;
  readonly health?: HealthReport;
  readonly error?: string;
}

export async function runStatus(argv: readonly string[], env: Record<string, string>): Promise<number> {
  const args = parseFlags(argv, statusSchema);
  if (args.help) {
    console.log(statusHelp);
    return 0;
  }
  const config = resolveConfig(statusSchema, { flags: args.flags, env, file: {} }).config;
  const endpoints = await endpointsOf(config);
  const rows = await Promise.all(endpoints.map(fetchHealth));
  printTable(rows);
  return rows.every((row) => row.health?.status === 'ok' && row.error === undefined) ? 0 : 1;
}

async function endpointsOf(config: StatusConfig): Promise<string[]> {
  if (config.endpoints !== '') {
    const list = config.endpoints
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    for (const endpoint of list) {
      if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
        throw new ConfigError('endpoints', `${JSON.stringify(endpoint)} is not an http:// URL`);
      }
    }
    return list;
  }
  const nodes = await readClusterFile(config.dataDir);
  if (nodes === undefined) {
    throw new ConfigError(
      'endpoints',
      `no cluster.json under ${config.dataDir}; give --endpoints http://host:port,... or start a cluster with weft up`,
    );
  }
  return nodes.map((n) => n.httpUrl);
}

async function fetchHealth(endpoint: string): Promise<Row> {
  try {
    const response = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(2_000) });
    // A 503 still carries the report and why (no leader, stopping): show it.
    const body = (await response.json().catch(() => undefined)) as (HealthReport & { unhealthy?: string }) | undefined;
    if (body === undefined || typeof body.id !== 'string') return { endpoint, error: `HTTP ${response.status}` };
    if (response.ok) return { endpoint, health: body };
    return { endpoint, health: body, error: body.unhealthy ?? `HTTP ${response.status}` };
  } catch (error) {
    return { endpoint, error: describeError(error) };
  }
}

function printTable(rows: readonly Row[]): void {
  const header = ['ID', 'ENDPOINT', 'HEALTH', 'RAFT', 'LEADER', 'PEERS', 'UPTIME', 'VERSION'];
  const lines = rows.map((row) => {
    const h = row.health;
    if (h === undefined) return ['?', row.endpoint, `down (${row.error ?? 'no answer'})`, '-', '-', '-', '-', '-'];
    const reachable = h.peers.filter((p) => p.reachable).length;
    const health = row.error === undefined ? h.status : `unhealthy (${row.error})`;
    const raft = h.kv === null ? 'not a member' : `${h.kv.role} t${h.kv.term}`;
    const leader = h.kv === null ? '-' : h.kv.leader || 'none';
    const uptime = `${h.uptimeSeconds.toFixed(1)}s`;
    return [h.id, row.endpoint, health, raft, leader, `${reachable}/${h.peers.length}`, uptime, h.version];
  });
  printColumns([header, ...lines]);
}
