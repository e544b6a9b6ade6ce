import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient, type Status } from '../src/client/kv-client.ts';
import type { FailoverTarget } from '../src/cli/bench/failover.ts';

export interface EtcdClusterOptions {
  readonly members: number;
  /** Member i serves clients on clientBase + i and peers on peerBase + i. */
  readonly clientBase: number;
  readonly peerBase: number;
  /** Extra flags for every member (--heartbeat-interval, --election-timeout, --pre-vote). */
  readonly flags: readonly string[];
  /** The etcd binary. @default etcd */
  readonly binary?: string;
}

const settleTimeoutMs = 60_000;

/**
 * A real etcd cluster on loopback for the comparison benchmarks, with data
 * in a fresh temporary directory (etcd fsyncs its WAL, as weft does). Like
 * LocalWeftCluster it can SIGKILL its leader and restart it from its data.
 */
export class EtcdCluster implements FailoverTarget {
  private readonly processes = new Map<number, ChildProcess>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
  private killed: number | undefined;
  /** Resolves when the killed member's process has exited. */
  private exited: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: EtcdClusterOptions) {}

  static async start(options: EtcdClusterOptions): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(options);
    for (const i of cluster.indexes()) cluster.launch(i);
    await cluster.settle();
    return cluster;
  }

  endpoints(): string[] {
    return this.indexes()
      .filter((i) => i !== this.killed)
      .map((i) => this.endpoint(i));
  }

  /** The process ids of the running members. */
  pids(): number[] {
    return [...this.processes.entries()].flatMap(([i, child]) =>
      i === this.killed || child.pid === undefined ? [] : [child.pid],
    );
  }

  async killLeader(): Promise<number> {
    const statuses = await this.settle();
    const leaderIndex = statuses.findIndex((s) => s.header.memberId === s.leader);
    const index = this.endpoints().map((e) => this.indexOf(e))[leaderIndex];
    const child = index === undefined ? undefined : this.processes.get(index);
    if (index === undefined || child === undefined) throw new Error('no etcd process is the leader');
    this.killed = index;
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    const at = performance.now();
    child.kill('SIGKILL');
    return at;
  }

  async heal(): Promise<void> {
    if (this.killed !== undefined) {
      await this.exited;
      this.launch(this.killed);
    }
    this.killed = undefined;
    const statuses = await this.settle();
    const leader = statuses.find((s) => s.header.memberId === s.leader);
    const target = leader?.raftIndex ?? 0;
    await this.until(async () => {
      const now = await Promise.all(this.endpoints().map((e) => status(e)));
      return now.every((s) => s !== undefined && s.raftAppliedIndex >= target);
    });
  }

  async stop(): Promise<void> {
    const exits = [...this.processes.values()].map(
      (child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
    );
    for (const child of this.processes.values()) child.kill('SIGTERM');
    await Promise.all(exits);
  }

  private indexes(): number[] {
    return Array.from({ length: this.options.members }, (_, i) => i + 1);
  }

  private endpoint(i: number): string {
    return `127.0.0.1:${this.options.clientBase + i}`;
  }

  private indexOf(endpoint: string): number {
    return Number(endpoint.split(':')[1]) - this.options.clientBase;
  }

  private launch(i: number): void {
    const peerUrl = (n: number): string => `http://127.0.0.1:${this.options.peerBase + n}`;
    const initialCluster = this.indexes()
      .map((n) => `e${n}=${peerUrl(n)}`)
      .join(',');
    const args = [
      ...['--name', `e${i}`, '--data-dir', join(this.dir, `e${i}`)],
      ...[
        '--listen-client-urls',
        `http://${this.endpoint(i)}`,
        '--advertise-client-urls',
        `http://${this.endpoint(i)}`,
      ],
      ...['--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i)],
      ...[
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        'weft-bench',
        '--initial-cluster-state',
        'new',
      ],
      ...['--logger', 'zap', '--log-level', 'error', ...this.options.flags],
    ];
    const child = spawn(this.options.binary ?? 'etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors = (errors + chunk).slice(-2_000)));
    child.on('error', (error) => {
      process.stderr.write(`cannot start etcd (${error.message}); install it with apt-get install -y etcd-server\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      if (this.processes.get(i) === child && signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0) {
        process.stderr.write(`etcd e${i} exited (${code ?? signal}):\n${errors}\n`);
      }
    });
    this.processes.set(i, child);
  }

  /** Wait until every running member answers and names the same leader; returns their statuses in endpoint order. */
  private async settle(): Promise<Status[]> {
    let statuses: Status[] = [];
    await this.until(async () => {
      const now = await Promise.all(this.endpoints().map((e) => status(e)));
      if (now.some((s) => s === undefined)) return false;
      statuses = now as Status[];
      const leader = statuses[0]!.leader;
      return leader !== 0n && statuses.every((s) => s.leader === leader);
    });
    return statuses;
  }

  private async until(condition: () => Promise<boolean>): Promise<void> {
    const deadline = performance.now() + settleTimeoutMs;
    while (!(await condition())) {
      if (performance.now() > deadline) throw new Error('the etcd bench cluster did not settle in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function status(endpoint: string): Promise<Status | undefined> {
  const client = new KvClient({ endpoints: [endpoint], timeoutMs: 1_000, retries: 0 });
  try {
    return await client.status();
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}
