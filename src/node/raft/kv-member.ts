import { raftConfig } from '../../raft/config.ts';
import type { NodeId } from '../../raft/types.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { NodeConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { weftVersion } from '../version.ts';
import { AutoCompactor } from './auto-compactor.ts';
import { autoCompactionPolicy, foundingVoters } from './kv-config.ts';
import { MemberDirectory } from './member-directory.ts';
import { RaftLoop } from './raft-loop.ts';
import { ReplicatedKv } from './replicated-kv.ts';

/** What /health says about the KV member. */
export interface KvHealth {
  readonly role: string;
  readonly leader: NodeId;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** S-Raft: who takes over if the leader dies, best first. */
  readonly successors: readonly NodeId[];
  readonly removed: boolean;
}

/**
 * The node's role as a member of the replicated KV group: the member
 * directory, the Raft loop and the KV service, assembled from the node's
 * config. A new data directory founds the KV group of --raft-voters (or
 * joins a running one, with --cluster-state existing). Stopping a leader first hands leadership
 * to its best successor, so a planned restart costs clients almost nothing.
 */
export class KvMember {
  private constructor(
    readonly loop: RaftLoop,
    readonly kv: ReplicatedKv,
    private readonly config: NodeConfig,
    private readonly log: Logger,
    private readonly compactor: AutoCompactor | undefined,
  ) {}

  static async open(
    config: NodeConfig,
    dataDir: string,
    transport: PeerTransport,
    log: Logger,
    clientUrl: string,
  ): Promise<KvMember> {
    const founders = foundingVoters(config);
    const directory = await MemberDirectory.open(dataDir, [
      ...config.peers,
      { id: config.id, address: transport.address },
    ]);
    const loop = await RaftLoop.open(
      {
        dataDir,
        raft: raftConfig({
          id: config.id,
          consensus: config.consensus,
          electionTicks: config.electionTicks,
          heartbeatTicks: 1,
          promotionTicks: config.promotionTicks,
        }),
        tickMs: config.heartbeatMs,
        founders: config.clusterState === 'new' ? founders : undefined,
        snapshotEveryEntries: config.snapshotEntries,
        keepEntries: Math.min(5_000, config.snapshotEntries),
        walSync: config.walSync,
        walDelayMs: config.walDelayMs,
      },
      {
        transport,
        directory,
        log,
        onFatal: (error) => {
          log.fatal({ err: error }, 'the Raft loop failed (disk?); the node stops to keep its promises');
          process.exit(1);
        },
      },
    );
    const kv = new ReplicatedKv(loop, transport, {
      clusterToken: config.clusterToken,
      version: weftVersion,
      clientUrl,
      dataDir,
      log,
    });
    kv.serve();
    loop.start();
    const policy = autoCompactionPolicy(config);
    const compactor = policy !== undefined ? new AutoCompactor(policy, loop, kv, log) : undefined;
    compactor?.start();
    return new KvMember(loop, kv, config, log, compactor);
  }

  health(): KvHealth {
    const status = this.loop.status();
    return {
      role: status.role,
      leader: status.leader,
      term: status.term,
      commit: status.commit,
      applied: this.loop.appliedIndex(),
      voters: status.conf.voters,
      learners: status.conf.learners,
      successors: this.loop.node.successors(),
      removed: this.loop.removed,
    };
  }

  /** Why the KV member cannot serve, or undefined. */
  unavailableReason(): string | undefined {
    if (this.loop.removed) return 'removed from the cluster';
    return this.loop.status().leader === ''
      ? 'no Raft leader is known (an election is under way, or no quorum is reachable)'
      : undefined;
  }

  async stop(): Promise<void> {
    this.compactor?.stop();
    await this.handOffLeadership();
    await this.loop.stop();
    this.kv.close();
  }

  /** A leader that stops gracefully first moves leadership to its best successor (thesis §3.10). */
  private async handOffLeadership(): Promise<void> {
    const node = this.loop.node;
    if (node.role !== 'leader') return;
    const status = this.loop.status();
    const target = node.successors()[0] ?? status.conf.voters.find((id) => id !== this.loop.id);
    if (target === undefined) return;
    try {
      node.transferLeadership(target);
      this.loop.kick();
    } catch {
      return;
    }
    const deadline = performance.now() + 2 * this.config.electionTicks * this.config.heartbeatMs;
    while (node.role === 'leader' && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    this.log.info({ to: target, moved: node.role !== 'leader' }, 'handed leadership over before stopping');
  }
}
