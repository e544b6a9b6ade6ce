import type { Prng } from '../../core/prng.ts';
import type { Id } from '../../koorde/id-space.ts';
import type { EventQueue } from './event-queue.ts';

export interface NetworkOptions {
  /** One-way delay, drawn uniformly per message. */
  readonly latencyMinTicks: number;
  readonly latencyMaxTicks: number;
  /** A request to a dead node fails this long after it was sent. */
  readonly timeoutTicks: number;
}

/** Who can be reached: the simulation says which nodes are up. */
export interface Reachable<N> {
  live(id: Id): N | undefined;
}

/**
 * Request/response and one-way messages between simulated nodes with
 * latency. A request to a node that is down when it arrives times out;
 * every message sent is counted.
 */
export class SimNetwork<N> {
  messages = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly options: NetworkOptions,
    private readonly nodes: Reachable<N>,
  ) {}

  /** `serve` runs at the receiver on arrival; `done` gets its answer, or undefined on timeout. */
  request<R>(to: Id, serve: (node: N) => R, done: (reply: R | undefined) => void): void {
    const sentAt = this.queue.now;
    this.messages += 1;
    this.queue.schedule(this.latency(), () => {
      const node = this.nodes.live(to);
      if (node === undefined) {
        this.queue.schedule(Math.max(0, sentAt + this.options.timeoutTicks - this.queue.now), () => done(undefined));
        return;
      }
      const reply = serve(node);
      this.messages += 1;
      this.queue.schedule(this.latency(), () => done(reply));
    });
  }

  /** A one-way message, lost if the receiver is down. */
  send(to: Id, apply: (node: N) => void): void {
    this.messages += 1;
    this.queue.schedule(this.latency(), () => {
      const node = this.nodes.live(to);
      if (node !== undefined) apply(node);
    });
  }

  private latency(): number {
    return this.prng.int(this.options.latencyMinTicks, this.options.latencyMaxTicks);
  }
}
