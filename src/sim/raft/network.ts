import type { Prng } from '../../core/prng.ts';
import type { Message } from '../../raft/messages.ts';
import type { NodeId } from '../../raft/types.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { drawDelay, type NetworkOptions } from './options.ts';

/** A message on the simulated wire; snapshot data rides beside a `snap` message. */
export interface Packet {
  readonly message: Message;
  readonly snapshotData?: Uint8Array;
  /** Called once with whether the packet arrived, as a snapshot stream reports its end. */
  readonly onOutcome?: (delivered: boolean) => void;
}

/**
 * The simulated network: per-packet delay (so reordering), loss,
 * duplication, directed link cuts (symmetric and asymmetric partitions) and
 * clogged links. Everything is drawn from the run's seeded PRNG.
 */
export class SimNetwork {
  private readonly blocked = new Set<string>();
  private readonly clogUntil = new Map<string, number>();
  faulty = true;
  stats = { sent: 0, delivered: 0, lost: 0, duplicated: 0 };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly options: NetworkOptions,
    private readonly deliver: (to: NodeId, packet: Packet) => void,
  ) {}

  send(packet: Packet): void {
    const { from, to } = packet.message;
    this.stats.sent += 1;
    if (this.blocked.has(link(from, to)) || (this.faulty && this.prng.chance(this.options.lossRate))) {
      this.lose(packet);
      return;
    }
    this.schedule(packet);
    if (this.faulty && this.prng.chance(this.options.duplicateRate)) {
      this.stats.duplicated += 1;
      this.schedule(packet);
    }
  }

  private schedule(packet: Packet): void {
    const { from, to } = packet.message;
    let delay = drawDelay(this.prng, this.options.delayMinMs, this.options.delayMeanMs);
    const clogged = this.clogUntil.get(link(from, to)) ?? 0;
    if (clogged > this.scheduler.now) delay += clogged - this.scheduler.now;
    this.scheduler.after(delay, () => {
      // A cut made while the packet was in flight loses it too.
      if (this.blocked.has(link(from, to))) {
        this.lose(packet);
        return;
      }
      this.stats.delivered += 1;
      packet.onOutcome?.(true);
      this.deliver(to, packet);
    });
  }

  private lose(packet: Packet): void {
    this.stats.lost += 1;
    packet.onOutcome?.(false);
  }

  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(link(from, to));
  }

  clog(from: NodeId, to: NodeId, untilMs: number): void {
    this.clogUntil.set(link(from, to), untilMs);
  }

  heal(): void {
    this.blocked.clear();
    this.clogUntil.clear();
  }

  /** Liveness phase: the network still delays, but no longer loses or cuts. */
  calm(): void {
    this.faulty = false;
    this.heal();
  }
}

function link(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
