import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftError } from '../../core/errors.ts';
import { describeExit, SupervisedNode } from '../supervisor.ts';
import type { FailoverTarget } from './failover.ts';

interface Health {
  pid: number;
  kv: { leader: string; commit: number; applied: number } | null;
}

export interface LocalWeftOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly httpBasePort: number;
  /** Node i serves the etcd API on clientBasePort + i (--client-port); without it, on its peer port. */
  readonly clientBasePort?: number;
  /** Flags every node gets (--consensus, --heartbeat-ms, ...). */
  readonly nodeArgs: readonly string[];
  /** Every log line of every node, as `weft up` prints it; nodes log at info when it is given. */
  readonly onLog?: (line: string) => void;
  /** Flags for node and V8 in every node process (bench/gc-per-write.ts: --trace-gc-nvp). */
  readonly nodeFlags?: readonly string[];
}

const readyTimeoutMs = 60_000;

/**
 * A weft cluster on loopback for the benchmarks: node i listens on
 * basePort + i (peers, and the etcd API unless it has a clientBasePort + i)
 * and httpBasePort + i, with data in a
 * fresh temporary directory. It can kill its leader with SIGKILL and mend
 * itself, for the failover measurement.
 */
export class LocalWeftCluster implements FailoverTarget {
  private readonly nodes = new Map<string, SupervisedNode>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  private killed: string | undefined;
  /** Why a node the cluster needs has died, if one has: the waits fail with it rather than time out. */
  private crashed: string | undefined;
  private stopping = false;

  private constructor(private readonly options: LocalWeftOptions) {}

  static async start(options: LocalWeftOptions): Promise<LocalWeftCluster> {
    const cluster = new LocalWeftCluster(options);
    for (const id of cluster.ids()) cluster.launch(id);
    await cluster.waitAllReady();
    return cluster;
  }

  private ids(): string[] {
    return Array.from({ length: this.options.nodes }, (_, i) => `n${i + 1}`);
  }

  private httpUrl(id: string): string {
    return `http://127.0.0.1:${this.options.httpBasePort + Number(id.slice(1))}`;
  }

  endpoints(): string[] {
    return this.ids()
      .filter((id) => id !== this.killed)
      .map((id) => `127.0.0.1:${(this.options.clientBasePort ?? this.options.basePort) + Number(id.slice(1))}`);
  }

  /** The process ids of the running nodes, in node order. */
  pids(): number[] {
    return this.ids().flatMap((id) => {
      const pid = id === this.killed ? undefined : this.nodes.get(id)?.pid;
      return pid === undefined ? [] : [pid];
    });
  }

  private launch(id: string): void {
    const peers = this.ids()
      .map((n) => `${n}=127.0.0.1:${this.options.basePort + Number(n.slice(1))}`)
      .join(',');
    const args = [
      ...['--id', id, '--peers', peers, '--http-port', String(this.options.httpBasePort + Number(id.slice(1)))],
      ...['--data-dir', join(this.dir, id), '--log-level', this.options.onLog ? 'info' : 'warn'],
      ...(this.options.clientBasePort !== undefined
        ? ['--client-port', String(this.options.clientBasePort + Number(id.slice(1)))]
        : []),
      ...this.options.nodeArgs,
    ];
    const node = new SupervisedNode(
      { id, args, ...(this.options.nodeFlags !== undefined && { nodeFlags: this.options.nodeFlags }) },
      this.options.onLog ?? (() => undefined),
    );
    this.nodes.set(id, node);
    void node.exited.then((exit) => {
      // For `bench failover --explain-over`: when the kernel had torn the process down.
      this.options.onLog?.(`${id.padEnd(4)}| ${new Date().toISOString().slice(11, 23)} EXIT  ${describeExit(exit)}`);
      if (this.nodes.get(id) === node && this.killed !== id && !this.stopping)
        this.crashed = `${id} ${describeExit(exit)}`;
    });
  }

  async killLeader(): Promise<number> {
    const leader = await this.leader();
    const node = this.nodes.get(leader);
    if (node === undefined) throw new WeftError('MEMBER_NOT_FOUND', `no process for the leader ${leader}`);
    this.killed = leader;
    const at = performance.now();
    node.signal('SIGKILL');
    return at;
  }

  async heal(): Promise<void> {
    if (this.killed !== undefined) {
      await this.nodes.get(this.killed)?.exited;
      this.launch(this.killed);
    }
    this.killed = undefined;
    await this.waitAllReady();
    const leader = await this.leader();
    const commit = (await health(this.httpUrl(leader)))?.kv?.commit ?? 0;
    for (const id of this.ids())
      await this.until(async () => ((await health(this.httpUrl(id)))?.kv?.applied ?? 0) >= commit);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const node of this.nodes.values()) node.signal('SIGTERM');
    await Promise.all([...this.nodes.values()].map((node) => node.exited));
  }

  private async leader(): Promise<string> {
    let leader = '';
    await this.until(async () => {
      const reports = await Promise.all(
        this.ids()
          .filter((id) => id !== this.killed)
          .map((id) => health(this.httpUrl(id))),
      );
      leader = reports[0]?.kv?.leader ?? '';
      return leader !== '' && reports.every((h) => h?.kv?.leader === leader);
    });
    return leader;
  }

  private async waitAllReady(): Promise<void> {
    for (const id of this.ids()) {
      await this.until(async () => (await fetch(`${this.httpUrl(id)}/ready`).catch(() => undefined))?.status === 200);
    }
  }

  private async until(condition: () => Promise<boolean>): Promise<void> {
    const deadline = performance.now() + readyTimeoutMs;
    while (!(await condition())) {
      if (this.crashed !== undefined) throw new WeftError('ABORTED', `bench node ${this.crashed}`);
      if (performance.now() > deadline) throw new WeftError('TIMEOUT', 'the bench cluster did not settle in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function health(url: string): Promise<Health | undefined> {
  try {
    return (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).json()) as Health;
  } catch {
    return undefined;
  }
}
