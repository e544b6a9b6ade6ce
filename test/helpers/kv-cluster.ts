import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { raftConfig } from '../../src/raft/config.ts';
import { MemberDirectory } from '../../src/node/raft/member-directory.ts';
import { RaftLoop } from '../../src/node/raft/raft-loop.ts';
import { ReplicatedKv } from '../../src/node/raft/replicated-kv.ts';
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory-transport.ts';
import { sleep } from './weft-process.ts';

/** One in-process member: the real Raft loop, WAL and store, over the memory network. */
export interface TestMember {
  readonly id: string;
  readonly dataDir: string;
  loop: RaftLoop;
  kv: ReplicatedKv;
  transport: MemoryTransport;
  running: boolean;
}

export interface TestClusterOptions {
  readonly consensus?: 'raft' | 's-raft';
  readonly snapshotEveryEntries?: number;
  readonly keepEntries?: number;
}

/**
 * An in-process cluster for tests of the node driver: real disks (temp
 * dirs), real Raft loops, no sockets. Members can be stopped and restarted
 * from their data directories, and new ones added.
 */
export class TestKvCluster {
  readonly network = new MemoryNetwork();
  readonly members = new Map<string, TestMember>();
  private readonly root = mkdtempSync(join(tmpdir(), 'weft-kv-'));

  constructor(private readonly options: TestClusterOptions = {}) {}

  static async start(size: number, options: TestClusterOptions = {}): Promise<TestKvCluster> {
    const cluster = new TestKvCluster(options);
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    for (const id of ids) await cluster.boot(id, ids);
    return cluster;
  }

  address(id: string): string {
    return `${id}:4000`;
  }

  /** Where a member's clients would connect: not its peer address, as with --client-port. */
  clientUrl(id: string): string {
    return `http://${id}.clients:2379`;
  }

  /** Start (or restart) a member; `founders` undefined means it joins an existing cluster. */
  async boot(
    id: string,
    founders: readonly string[] | undefined,
    peers: readonly string[] = founders ?? [],
  ): Promise<TestMember> {
    const dataDir = this.members.get(id)?.dataDir ?? join(this.root, id);
    mkdirSync(dataDir, { recursive: true });
    const transport = this.network.join(this.address(id), { nodeId: id, version: 'test' });
    const log = pino({ level: 'silent' });
    const directory = await MemberDirectory.open(
      dataDir,
      peers.map((p) => ({ id: p, address: this.address(p) })),
    );
    const loop = await RaftLoop.open(
      {
        dataDir,
        raft: raftConfig({
          id,
          consensus: this.options.consensus ?? 's-raft',
          electionTicks: 10,
          heartbeatTicks: 1,
          promotionTicks: 3,
        }),
        tickMs: 10,
        founders,
        snapshotEveryEntries: this.options.snapshotEveryEntries ?? 10_000,
        keepEntries: this.options.keepEntries ?? 1_000,
        walSync: 'fdatasync',
      },
      {
        transport,
        directory,
        log,
        onFatal: (error) => {
          throw error;
        },
      },
    );
    const kv = new ReplicatedKv(loop, transport, {
      clusterToken: 'test',
      version: 'test',
      clientUrl: this.clientUrl(id),
      dataDir,
      log,
    });
    kv.serve();
    loop.start();
    const member: TestMember = { id, dataDir, loop, kv, transport, running: true };
    this.members.set(id, member);
    return member;
  }

  member(id: string): TestMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  async stop(id: string): Promise<void> {
    const member = this.member(id);
    if (!member.running) return;
    member.running = false;
    await member.transport.close();
    await member.loop.stop();
    member.kv.close();
  }

  /** The current leader, once one is known to every running member. */
  async leader(timeoutMs = 10_000): Promise<TestMember> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const running = [...this.members.values()].filter((m) => m.running && !m.loop.removed);
      const leaders = running.filter((m) => m.loop.node.role === 'leader');
      const agreed = leaders.length === 1 && running.every((m) => m.loop.status().leader === leaders[0]!.id);
      if (agreed) return leaders[0]!;
      await sleep(20);
    }
    throw new Error('no leader agreed on in time');
  }

  async stopAll(): Promise<void> {
    for (const id of this.members.keys()) await this.stop(id);
  }
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const str = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value);
