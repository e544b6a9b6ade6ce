import { describeError } from '../core/errors.ts';
import type { PeerTransport } from '../transport/transport.ts';
import type { PeerSpec } from './config.ts';
import type { Logger } from './logger.ts';
import type { NodeMetrics } from './metrics.ts';

export interface PeerStatus {
  readonly id: string;
  readonly address: string;
  /** True when the last ping was answered by a node with the configured id. */
  readonly reachable: boolean;
  readonly rttMs?: number;
  /** Why the last ping failed, or which id answered instead. */
  readonly error?: string;
  /** Milliseconds since the last successful ping; absent if none yet. */
  readonly lastSeenAgoMs?: number;
}

/**
 * Pings every other member on an interval and remembers the last answer, so
 * /health can say which peers answer. A peer that answers with another id is
 * reported as unreachable: it is not the member the config names.
 */
export class PeerHealthMonitor {
  private readonly status = new Map<string, { reachable: boolean; rttMs?: number; error?: string; seenAt?: number }>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: PeerTransport,
    private readonly peers: readonly PeerSpec[],
    private readonly intervalMs: number,
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.round = this.pingAll();
    this.timer = setInterval(() => {
      this.round = this.pingAll();
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  snapshot(): PeerStatus[] {
    const now = performance.now();
    return this.peers.map((peer) => {
      const s = this.status.get(peer.id);
      return {
        id: peer.id,
        address: peer.address,
        reachable: s?.reachable ?? false,
        ...(s?.rttMs !== undefined ? { rttMs: Math.round(s.rttMs * 1000) / 1000 } : {}),
        ...(s?.error !== undefined ? { error: s.error } : {}),
        ...(s?.seenAt !== undefined ? { lastSeenAgoMs: Math.round(now - s.seenAt) } : {}),
      };
    });
  }

  private async pingAll(): Promise<void> {
    const timeoutMs = Math.max(50, Math.min(this.intervalMs, 2_000));
    await Promise.all(this.peers.map((peer) => this.pingOne(peer, timeoutMs)));
  }

  private async pingOne(peer: PeerSpec, timeoutMs: number): Promise<void> {
    const before = this.status.get(peer.id);
    try {
      const answer = await this.transport.ping(peer.address, { timeoutMs });
      if (answer.nodeId !== peer.id) {
        this.record(peer, { reachable: false, error: `answered as ${answer.nodeId}, not ${peer.id}` }, before);
        return;
      }
      this.record(peer, { reachable: true, rttMs: answer.rttMs, seenAt: performance.now() }, before);
    } catch (error) {
      const seenAt = before?.seenAt;
      this.record(
        peer,
        { reachable: false, error: describeError(error), ...(seenAt !== undefined ? { seenAt } : {}) },
        before,
      );
    }
  }

  private record(
    peer: PeerSpec,
    next: { reachable: boolean; rttMs?: number; error?: string; seenAt?: number },
    before: { reachable: boolean } | undefined,
  ): void {
    this.status.set(peer.id, next);
    this.metrics.peerUp.set({ peer: peer.id }, next.reachable ? 1 : 0);
    if (next.rttMs !== undefined) this.metrics.peerRttSeconds.set({ peer: peer.id }, next.rttMs / 1000);
    if (before?.reachable !== next.reachable) {
      if (next.reachable) this.log.info({ peer: peer.id, address: peer.address }, 'peer reachable');
      else if (before !== undefined)
        this.log.warn({ peer: peer.id, address: peer.address, error: next.error }, 'peer unreachable');
    }
  }
}
