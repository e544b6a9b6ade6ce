import { parseArgs } from 'node:util';
import { integer, oneOf } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';
import { memberIdOf } from '../core/ids.ts';
import { measureFailover, summarize } from './bench/failover.ts';
import { LocalWeftCluster } from './bench/local-weft.ts';
import type { Output } from './kv-command.ts';

export const benchFailoverHelp = `weft bench failover: SIGKILL the leader of a local 3-node cluster under write load, N times,
and measure what clients see: from the kill to the first write that commits afterwards.

Usage: weft bench failover [--mode s-raft|raft|both] [--trials N] [flags]

Flags:
  --mode <m>              s-raft, raft or both (default both)
  --trials <N>            leader kills per mode (default 20)
  --nodes <n>             members (default 3)
  --base-port <port>      node i serves peers and the etcd API on base-port + i (default 24000)
  --http-base-port <port> node i serves HTTP on http-base-port + i (default 28000)
  --heartbeat-ms <ms>     Raft heartbeat of every node (default 20)
  --election-ticks <n>    Raft election timeout in heartbeats (default 10)
  --load-clients <C>      writers keeping the cluster busy (default 8)
  --warmup-ms <ms>        the kill comes at a random moment up to this far into each trial (default 2000)
  --node-args="<flags>"   more flags every node gets, e.g. "--snapshot-entries 10000" (for A/B runs);
                          the flags this command sets itself are its own (--heartbeat-ms, not a node flag)
  --explain-over <ms>     after a trial slower than this, print what the nodes logged from the kill
                          to the first commit (roles, terms, lost connections; nodes then log at info),
                          each line at its node's own time since the kill, and when the killed
                          process was gone (EXIT)

Prints a table, then one line per mode: mode=… p50_ms=… p99_ms=… max_ms=… trials=…`;

export async function runBenchFailover(argv: readonly string[], out: Output = process.stdout): Promise<number> {
  const { values } = parse(argv);
  if (values.help === true) {
    out.write(`${benchFailoverHelp}\n`);
    return 0;
  }
  const mode = oneOf(['s-raft', 'raft', 'both'] as const)(values.mode ?? 'both', 'mode');
  const trials = integer(1, 10_000)(values.trials ?? '20', 'trials');
  const nodes = integer(3, 7)(values.nodes ?? '3', 'nodes');
  const heartbeatMs = integer(1, 10_000, ' ms')(values['heartbeat-ms'] ?? '20', 'heartbeat-ms');
  const electionTicks = integer(5, 1_000)(values['election-ticks'] ?? '10', 'election-ticks');
  const loadClients = integer(1, 1_000)(values['load-clients'] ?? '8', 'load-clients');
  const warmupMs = integer(100, 600_000, ' ms')(values['warmup-ms'] ?? '2000', 'warmup-ms');
  const basePort = integer(1, 65_000)(values['base-port'] ?? '24000', 'base-port');
  const httpBasePort = integer(1, 65_000)(values['http-base-port'] ?? '28000', 'http-base-port');
  const extraNodeArgs = nodeArgsOf(values['node-args'] ?? '');
  const explainOverMs =
    values['explain-over'] === undefined
      ? undefined
      : integer(0, 600_000, ' ms')(values['explain-over'], 'explain-over');
  const recent = new RecentLines();
  const lines: string[] = [];
  out.write(
    `failover: ${trials} leader kills per mode, ${nodes} members, heartbeat ${heartbeatMs} ms, ${loadClients} writers\n`,
  );
  out.write('mode     p50_ms   p99_ms   max_ms\n');
  for (const consensus of mode === 'both' ? (['raft', 's-raft'] as const) : [mode]) {
    const cluster = await LocalWeftCluster.start({
      nodes,
      basePort,
      httpBasePort,
      nodeArgs: [
        '--consensus',
        consensus,
        '--heartbeat-ms',
        String(heartbeatMs),
        '--election-ticks',
        String(electionTicks),
        ...extraNodeArgs,
      ],
      ...(explainOverMs !== undefined && { onLog: (line: string) => recent.add(line) }),
    });
    try {
      const sample = await measureFailover(cluster, {
        trials,
        loadClients,
        warmupMs,
        valueSizeBytes: 256,
        seed: 1,
        onTrial: ({ index, killedAt, committedAt, probe }) => {
          if (explainOverMs === undefined || committedAt - killedAt <= explainOverMs) return;
          out.write(`${consensus} trial ${index + 1}: ${(committedAt - killedAt).toFixed(1)} ms; the nodes said:\n`);
          const probeLines = probe.map(({ at, text }) => ({ at, line: `probe| ${namesIn(text, nodes, basePort)}` }));
          const said = [...recent.between(killedAt - 100, committedAt + 20), ...probeLines].sort((a, b) => a.at - b.at);
          for (const { at, line } of said) out.write(`  +${(at - killedAt).toFixed(0).padStart(4)} ms ${line}\n`);
        },
      });
      const { p50, p99, max } = summarize(sample);
      out.write(
        `${consensus.padEnd(7)}${p50.toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)} ${max.toFixed(1).padStart(8)}\n`,
      );
      lines.push(
        `mode=${consensus} p50_ms=${p50.toFixed(1)} p99_ms=${p99.toFixed(1)} max_ms=${max.toFixed(1)} trials=${trials}`,
      );
    } finally {
      await cluster.stop();
    }
  }
  out.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The probe's text with the nodes' endpoints and member ids replaced by their names (n1, n2, ...). */
function namesIn(text: string, nodes: number, basePort: number): string {
  let named = text;
  for (let i = 1; i <= nodes; i += 1) {
    named = named
      .replaceAll(`127.0.0.1:${basePort + i}`, `n${i}`)
      .replaceAll(`member ${memberIdOf(`n${i}`).toString(16)}`, `n${i}`);
  }
  return named;
}

/** Node flags the bench sets for every node itself: a --node-args that repeated one would silently win or lose. */
const benchOwnedNodeFlags = new Map([
  ['--consensus', 'give the bench --mode'],
  ['--heartbeat-ms', 'give it to the bench'],
  ['--election-ticks', 'give it to the bench'],
  ['--id', 'the bench names its nodes n1, n2, ... (--nodes)'],
  ['--peers', 'the bench names its nodes n1, n2, ... (--nodes)'],
  ['--data-dir', 'each run has a fresh temporary directory'],
  ['--http-port', 'give the bench --http-base-port'],
  ['--client-port', 'give the bench --base-port'],
  ['--log-level', "the bench's --explain-over makes the nodes log at info"],
]);

/** `--node-args "--a 1 --b"` as argv; a flag the bench owns is refused, naming the bench's own flag. */
export function nodeArgsOf(text: string): string[] {
  const args = text.split(/\s+/).filter((arg) => arg !== '');
  for (const arg of args) {
    const flag = arg.split('=')[0] ?? arg;
    const instead = benchOwnedNodeFlags.get(flag);
    if (instead !== undefined)
      throw new ConfigError('node-args', `${flag} is set by weft bench failover itself: ${instead}`);
  }
  return args;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        mode: { type: 'string' },
        trials: { type: 'string' },
        nodes: { type: 'string' },
        'base-port': { type: 'string' },
        'http-base-port': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'election-ticks': { type: 'string' },
        'load-clients': { type: 'string' },
        'warmup-ms': { type: 'string' },
        'explain-over': { type: 'string' },
        'node-args': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft bench failover --help`);
  }
}

/**
 * The nodes' log lines of the last few seconds, each placed at the moment
 * its node stamped it (on this process's performance.now() clock), not when
 * it arrived here: a busy node's lines come through its pipe in bursts.
 */
export class RecentLines {
  private readonly lines: { at: number; line: string }[] = [];

  add(line: string, arrivedAt = performance.now(), arrivedWall = Date.now()): void {
    this.lines.push({ at: arrivedAt + stampOffsetMs(line, arrivedWall), line });
    while ((this.lines[0]?.at ?? arrivedAt) < arrivedAt - 10_000) this.lines.shift();
  }

  between(from: number, to: number): { at: number; line: string }[] {
    return this.lines.filter(({ at }) => at >= from && at <= to).sort((a, b) => a.at - b.at);
  }
}

const dayMs = 86_400_000;

/** How long before `wallNow` the line's UTC time of day (`n1  | 23:58:08.917 ...`) was; 0 without one. */
function stampOffsetMs(line: string, wallNow: number): number {
  const stamp = /^\S+\s*\| (\d\d):(\d\d):(\d\d)\.(\d\d\d) /.exec(line);
  if (stamp === null) return 0;
  const [h, m, s, ms] = stamp.slice(1).map(Number) as [number, number, number, number];
  const offset = (((h * 60 + m) * 60 + s) * 1000 + ms - (wallNow % dayMs) + dayMs * 1.5) % dayMs;
  return offset - dayMs / 2;
}
