import { parseArgs } from 'node:util';
import { integer, oneOf } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';
import {
  MAX_BENCH_KEYS,
  runKvBench,
  type KvBenchOptions,
  type KvBenchResult,
  type OpStats,
} from './bench/kv-workload.ts';
import { runBenchFailover } from './bench-failover-command.ts';
import { kvEndpoints } from './kv-endpoints.ts';
import type { Output } from './kv-command.ts';

export const benchHelp = `weft bench kv: load the KV store through its etcd v3 API and report throughput and latency.
It speaks only the etcd API, so the same command measures a real etcd (bench/vs-etcd.sh).

Usage: weft bench kv [flags]

Flags:
  --endpoints <host:port,...>  gRPC endpoints (env WEFT_ENDPOINTS; default: read <data-dir>/cluster.json)
  --data-dir <dir>             where \`weft up\` wrote cluster.json (default .weft)
  --clients <C>                concurrent requests in flight (default 16)
  --conns <N>                  gRPC connections the clients share (default: one per endpoint, at most C)
  --duration <D>               how long to measure: 10s, 500ms, 2m, or seconds (default 10s)
  --value-size <bytes>         size of each value written (default 256)
  --read-ratio <R>             fraction of requests that are reads, 0..1 (default 0.5)
  --keys <K>                   keys chosen from uniformly, written once before measuring (default 1000)
  --consistency l|s            linearizable (default) or serializable reads
  --seed <n>                   seed of the key and operation choices (default 1)
  --workers <W>                threads generating load, sharing the clients (default 1); a gRPC request costs the
                               client about what it costs the server, so one client core can be what limits the rate

Prints a table, then one line: ops_per_s=… write_ops_per_s=… write_p50_ms=… write_p99_ms=… read_ops_per_s=… read_p99_ms=…`;

const options = {
  endpoints: { type: 'string' },
  'data-dir': { type: 'string' },
  clients: { type: 'string' },
  conns: { type: 'string' },
  duration: { type: 'string' },
  'value-size': { type: 'string' },
  'read-ratio': { type: 'string' },
  keys: { type: 'string' },
  consistency: { type: 'string' },
  seed: { type: 'string' },
  workers: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** `weft bench kv`. Exit status 1 when not one request succeeded. */
export async function runBench(
  argv: readonly string[],
  env: Record<string, string>,
  out: Output = process.stdout,
): Promise<number> {
  if (argv[0] === 'failover') return runBenchFailover(argv.slice(1), out);
  const parsed = parse(argv);
  if (parsed.values.help === true) {
    out.write(`${benchHelp}\n`);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (target !== 'kv') {
    throw new ConfigError('command', `weft bench ${target ?? ''} is unknown; try weft bench kv or weft bench failover`);
  }
  if (extra[0] !== undefined) throw new ConfigError(extra[0], 'unexpected argument; flags take the form --name value');
  const config = await benchOptions(parsed.values, env);
  out.write(`${describe(config)}\n`);
  const result = await runKvBench(config);
  out.write(report(result));
  return result.reads.latency.count + result.writes.latency.count > 0 ? 0 : 1;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft bench --help`);
  }
}

type Values = ReturnType<typeof parse>['values'];

async function benchOptions(values: Values, env: Record<string, string>): Promise<KvBenchOptions> {
  const endpoints = await kvEndpoints(values, env);
  const clients = integer(1, 10_000)(values.clients ?? '16', 'clients');
  const level = oneOf(['l', 's', 'linearizable', 'serializable'])(values.consistency ?? 'l', 'consistency');
  return {
    endpoints,
    clients,
    connections: integer(1, clients)(values.conns ?? String(Math.min(clients, endpoints.length)), 'conns'),
    durationMs: parseDurationMs(values.duration ?? '10s'),
    valueSizeBytes: integer(0, 1024 * 1024, ' bytes')(values['value-size'] ?? '256', 'value-size'),
    readRatio: parseRatio(values['read-ratio'] ?? '0.5'),
    keys: integer(1, MAX_BENCH_KEYS)(values.keys ?? '1000', 'keys'),
    consistency: level.startsWith('s') ? 'serializable' : 'linearizable',
    seed: integer(0, 2 ** 31)(values.seed ?? '1', 'seed'),
    workers: integer(1, Math.min(64, clients))(values.workers ?? '1', 'workers'),
  };
}

/** 10s, 500ms, 2m, or a number of seconds; from 100 ms to a day. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const unitMs = { ms: 1, s: 1000, m: 60_000 }[match?.[2] ?? 's'] ?? 1000;
  const ms = match === null ? NaN : Number(match[1]) * unitMs;
  if (!(ms >= 100 && ms <= 86_400_000)) {
    throw new ConfigError(
      'duration',
      `${JSON.stringify(text)} is not a duration from 100ms to 24h (e.g. 10s, 500ms, 2m)`,
    );
  }
  return ms;
}

function parseRatio(text: string): number {
  const ratio = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || ratio > 1)
    throw new ConfigError('read-ratio', `${text} is not a number from 0 to 1`);
  return ratio;
}

function describe(config: KvBenchOptions): string {
  return (
    `weft bench kv: ${config.clients} clients on ${config.connections} connections (${config.workers ?? 1} threads) ` +
    `to ${config.endpoints.join(',')} ` +
    `for ${(config.durationMs / 1000).toFixed(1)} s; ${config.valueSizeBytes}-byte values, ${config.keys} keys, ` +
    `read ratio ${config.readRatio}, ${config.consistency} reads`
  );
}

/** The table, a client CPU line, and the machine-readable last line. */
export function report(result: KvBenchResult): string {
  const seconds = result.elapsedMs / 1000;
  const rate = (stats: OpStats): number => stats.latency.count / seconds;
  const row = (name: string, stats: OpStats): string =>
    [
      name.padEnd(6),
      String(stats.latency.count).padStart(9),
      rate(stats).toFixed(1).padStart(10),
      ...[stats.latency.quantileMs(0.5), stats.latency.quantileMs(0.99), stats.latency.maxMs()].map((ms) =>
        ms.toFixed(3).padStart(9),
      ),
      String(stats.errors).padStart(7),
    ].join(' ');
  const lines = [
    `${'op'.padEnd(6)} ${'ops'.padStart(9)} ${'ops/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)} ${'errors'.padStart(7)}`,
    row('write', result.writes),
    row('read', result.reads),
    ...[result.writes, result.reads]
      .filter((stats) => stats.lastError !== undefined)
      .map((stats) => `last error (${stats === result.writes ? 'write' : 'read'}): ${stats.lastError}`),
    `client CPU: ${(result.clientCpuCores * 100).toFixed(0)}% of one core (near 100%, the bench process itself limits the rate)`,
    [
      `ops_per_s=${(rate(result.writes) + rate(result.reads)).toFixed(1)}`,
      `write_ops_per_s=${rate(result.writes).toFixed(1)}`,
      `write_p50_ms=${result.writes.latency.quantileMs(0.5).toFixed(3)}`,
      `write_p99_ms=${result.writes.latency.quantileMs(0.99).toFixed(3)}`,
      `read_ops_per_s=${rate(result.reads).toFixed(1)}`,
      `read_p99_ms=${result.reads.latency.quantileMs(0.99).toFixed(3)}`,
    ].join(' '),
  ];
  return `${lines.join('\n')}\n`;
}
