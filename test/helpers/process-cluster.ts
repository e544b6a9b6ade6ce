import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange } from './ports.ts';
import { sleep, waitForStatus, WeftProcess } from './weft-process.ts';

interface KvHealth {
  role: string;
  leader: string;
  term: number;
  commit: number;
  applied: number;
  voters: string[];
  learners: string[];
}

export interface NodeHealth {
  id: string;
  pid: number;
  kv: KvHealth | null;
}

interface Slot {
  readonly id: string;
  readonly peerPort: number;
  readonly httpPort: number;
  readonly args: readonly string[];
  process: WeftProcess | undefined;
}

/**
 * Real `weft node` processes on loopback, for tests that kill and restart
 * them: each node keeps its ports and data directory across restarts. The
 * etcd-compatible API is served on each node's peer port.
 */
export class ProcessCluster {
  private readonly slots = new Map<string, Slot>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'weft-cluster-'));
  private peerBase = 0;
  private httpBase = 0;
  private readonly capacity = 8;

  private constructor(private readonly extraArgs: readonly string[]) {}

  /** Start `count` founding members n1..n<count> and wait until each is ready. */
  static async start(count: number, extraArgs: readonly string[] = []): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(extraArgs);
    cluster.peerBase = await freePortRange(cluster.capacity);
    cluster.httpBase = await freePortRange(cluster.capacity);
    const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const peers = ids.map((id) => `${id}=${cluster.peerAddress(id)}`).join(',');
    for (const id of ids) cluster.define(id, ['--peers', peers]);
    for (const id of ids) cluster.launch(id);
    await Promise.all(ids.map((id) => cluster.waitReady(id)));
    return cluster;
  }

  peerAddress(id: string): string {
    return `127.0.0.1:${this.peerBase + Number(id.slice(1))}`;
  }

  dataDir(id: string): string {
    return join(this.dir, id);
  }

  httpUrl(id: string): string {
    return `http://127.0.0.1:${this.httpBase + Number(id.slice(1))}`;
  }

  /** The etcd-compatible endpoints of the running nodes, starting at node `first`. */
  endpoints(first = 0): string[] {
    const ids = [...this.slots.values()].filter((s) => s.process !== undefined).map((s) => this.peerAddress(s.id));
    return [...ids.slice(first % ids.length), ...ids.slice(0, first % ids.length)];
  }

  get ids(): string[] {
    return [...this.slots.keys()];
  }

  /** Declare a node (its flags) without starting it: for a member added at run time. */
  define(id: string, args: readonly string[]): void {
    const n = Number(id.slice(1));
    if (!(n >= 1 && n <= this.capacity)) throw new Error(`node ids run n1..n${this.capacity}`);
    this.slots.set(id, {
      id,
      peerPort: this.peerBase + n,
      httpPort: this.httpBase + n,
      args: [
        ...['--id', id, '--peer-port', String(this.peerBase + n), '--http-port', String(this.httpBase + n)],
        ...['--data-dir', join(this.dir, id), '--log-level', 'warn', '--ping-interval-ms', '5000'],
        ...this.extraArgs,
        ...args,
      ],
      process: undefined,
    });
  }

  launch(id: string): WeftProcess {
    const slot = this.slot(id);
    slot.process = new WeftProcess(['node', ...slot.args]);
    return slot.process;
  }

  async waitReady(id: string, timeoutMs = 60_000): Promise<void> {
    await waitForStatus(`${this.httpUrl(id)}/ready`, 200, timeoutMs);
  }

  async health(id: string): Promise<NodeHealth | undefined> {
    try {
      const response = await fetch(`${this.httpUrl(id)}/health`, { signal: AbortSignal.timeout(2_000) });
      return (await response.json()) as NodeHealth;
    } catch {
      return undefined;
    }
  }

  /** The leader all running members agree on. */
  async leader(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const running = [...this.slots.values()].filter((s) => s.process !== undefined);
      const reports = await Promise.all(running.map((s) => this.health(s.id)));
      const leader = reports[0]?.kv?.leader ?? '';
      if (leader !== '' && reports.every((h) => h?.kv?.leader === leader)) return leader;
      await sleep(50);
    }
    throw new Error('the running members did not agree on a leader in time');
  }

  /** Kill a node (SIGKILL by default) and wait until its process is gone. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const slot = this.slot(id);
    const process = slot.process;
    slot.process = undefined;
    if (process === undefined) return;
    process.child.kill(signal);
    await process.finished;
  }

  /** Start a killed node again from its data directory. */
  async restart(id: string): Promise<void> {
    this.launch(id);
    await this.waitReady(id);
  }

  /** Wait until `id` has applied at least what `reference` has committed. */
  async caughtUp(id: string, reference: string, timeoutMs = 30_000): Promise<void> {
    const target = (await this.health(reference))?.kv?.commit ?? 0;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (((await this.health(id))?.kv?.applied ?? 0) >= target) return;
      await sleep(50);
    }
    throw new Error(`${id} did not catch up to index ${target} in time`);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((id) => this.kill(id, 'SIGKILL')));
  }

  private slot(id: string): Slot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }
}
