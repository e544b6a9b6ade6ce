import type * as grpc from '@grpc/grpc-js';
import { GrpcTransport } from '../transport/grpc-transport.ts';
import { WebCache } from './cache/web-cache.ts';
import { listenOnPort, otherPeers, type NodeConfig } from './config.ts';
import { openDataDir, type DataDirLock } from './data-dir.ts';
import { Dht } from './dht/dht.ts';
import type { Logger } from './logger.ts';
import { createNodeMetrics, type NodeMetrics } from './metrics.ts';
import { PeerHealthMonitor, type PeerStatus } from './peer-health.ts';
import { foundingVoters } from './raft/kv-config.ts';
import { KvMember, type KvHealth } from './raft/kv-member.ts';
import { weftVersion } from './version.ts';

/** What /health reports. */
export interface HealthReport {
  readonly status: 'ok' | 'stopping';
  readonly id: string;
  readonly version: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly peers: readonly PeerStatus[];
  /** The replicated KV member: Raft role, leader, term, indexes, membership, S-Raft successors; null outside the KV group. */
  readonly kv: KvHealth | null;
}

/**
 * One weft node below the API: its data directory, the gRPC peer transport,
 * peer health, metrics, and its roles: the Koorde DHT member (and, later,
 * the Raft member). `start` either brings everything up or undoes what it did and
 * throws; `stop` is graceful; the caller bounds how long it may take.
 */
export class WeftNode {
  private readonly startedAt = performance.now();
  private stopping = false;

  private constructor(
    readonly config: NodeConfig,
    readonly log: Logger,
    readonly metrics: NodeMetrics,
    private readonly dataDir: DataDirLock,
    readonly transport: GrpcTransport,
    private readonly peerHealth: PeerHealthMonitor,
    readonly dht: Dht,
    /** Undefined on a node that is not in the KV group (it runs the DHT only). */
    readonly kvMember: KvMember | undefined,
    /** The web cache on the DHT (docs/cache.md). */
    readonly cache: WebCache,
  ) {}

  /** Start the node. Throws ConfigError for a port in use or an unusable data dir. */
  /** `registerPeerServices` adds gRPC services (the etcd API) to the peer port's server before it binds. */
  static async start(
    config: NodeConfig,
    log: Logger,
    registerPeerServices?: (server: grpc.Server) => void,
  ): Promise<WeftNode> {
    const metrics = createNodeMetrics(config.id, weftVersion);
    const dataDir = await openDataDir(config.dataDir);
    try {
      const transport = await listenPeer(config, log, registerPeerServices);
      const peerHealth = new PeerHealthMonitor(transport, otherPeers(config), config.pingIntervalMs, metrics, log);
      peerHealth.start();
      const dht = new Dht(transport, config, log, metrics.registry);
      dht.start();
      const clientUrl = `http://${transport.address.replace(/:\d+$/, '')}:${config.clientPort === 0 ? config.peerPort : config.clientPort}`;
      const inKvGroup = config.clusterState === 'existing' || foundingVoters(config).includes(config.id);
      const kvMember = inKvGroup ? await KvMember.open(config, dataDir.path, transport, log, clientUrl) : undefined;
      const cache = new WebCache({ nodeId: config.id, transport, dht, config, log, registry: metrics.registry });
      return new WeftNode(config, log, metrics, dataDir, transport, peerHealth, dht, kvMember, cache);
    } catch (error) {
      await dataDir.release();
      throw error;
    }
  }

  get dataPath(): string {
    return this.dataDir.path;
  }

  health(): HealthReport {
    return {
      status: this.stopping ? 'stopping' : 'ok',
      id: this.config.id,
      version: weftVersion,
      pid: process.pid,
      uptimeSeconds: Math.round((performance.now() - this.startedAt) / 100) / 10,
      peers: this.peerHealth.snapshot(),
      kv: this.kvMember?.health() ?? null,
    };
  }

  /** Why the node should answer /health with 503 (no Raft leader, or removed), or undefined. */
  unhealthyReason(): string | undefined {
    return this.stopping ? 'stopping' : this.kvMember?.unavailableReason();
  }

  /** Why the node cannot take work, or undefined when it can. */
  notReadyReason(): string | undefined {
    if (this.stopping) return 'stopping';
    if (!this.dht.joined) return 'joining the DHT ring';
    return this.kvMember?.unavailableReason();
  }

  /** Mark the node as stopping, so /ready turns 503 before servers close. */
  beginStop(): void {
    this.stopping = true;
  }

  /** Close peers, then the stores. The HTTP server is closed before this. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.cache.stop();
    await this.kvMember?.stop();
    await this.dht.stop();
    await this.peerHealth.stop();
    await this.transport.close();
    await this.dataDir.release();
  }
}

async function listenPeer(
  config: NodeConfig,
  log: Logger,
  register?: (server: grpc.Server) => void,
): Promise<GrpcTransport> {
  return listenOnPort('peer-port', config.host, config.peerPort, () =>
    GrpcTransport.listen({
      host: config.host,
      port: config.peerPort,
      identity: { nodeId: config.id, version: weftVersion },
      ...(register !== undefined ? { register } : {}),
      onMalformedLink: (error) => log.warn({ err: error }, 'closed a peer connection that sent malformed messages'),
    }),
  );
}
