import { assert } from '../../core/assert.ts';
import type { Operation } from './history.ts';

interface Pending<I> {
  readonly clientId: number;
  readonly input: I;
  readonly call: number;
}

/**
 * Builds a history as a workload runs. Times come from the caller's clock
 * (`now`), read at each event: the simulator passes its virtual clock, a
 * multi-process test a monotonic one. The clock must never go backwards.
 *
 * Every invoked operation ends in exactly one of `ok` (the client got a
 * response), `unknown` (the client timed out or crashed: the operation may
 * have taken effect or not), or `fail` (the operation certainly did not take
 * effect, e.g. it was rejected before being proposed); one still pending when
 * `history()` is read counts as unknown.
 */
export class HistoryRecorder<I, O> {
  private readonly pending = new Map<number, Pending<I>>();
  private readonly finished = new Map<number, Operation<I, O>>();
  private nextId = 0;
  private lastTime = -Infinity;

  constructor(private readonly now: () => number) {}

  /** Records that `clientId` invoked `input` now; returns the operation's id. */
  invoke(clientId: number, input: I): number {
    const id = this.nextId;
    this.nextId += 1;
    this.pending.set(id, { clientId, input, call: this.tick() });
    return id;
  }

  /** The client received `output` now. */
  ok(id: number, output: O): void {
    const { clientId, input, call } = this.settle(id);
    this.finished.set(id, { id, clientId, input, call, return: this.tick(), output });
  }

  /** The client gave up on the operation without knowing whether it took effect. */
  unknown(id: number): void {
    const { clientId, input, call } = this.settle(id);
    this.finished.set(id, { id, clientId, input, call });
  }

  /** The operation certainly did not take effect; it is left out of the history. */
  fail(id: number): void {
    this.settle(id);
  }

  /** The operations so far in invocation order; those still pending are unknown. */
  history(): Operation<I, O>[] {
    const operations: Operation<I, O>[] = [...this.finished.values()];
    for (const [id, { clientId, input, call }] of this.pending) operations.push({ id, clientId, input, call });
    return operations.sort((a, b) => a.id - b.id);
  }

  private settle(id: number): Pending<I> {
    const operation = this.pending.get(id);
    assert(operation !== undefined, `operation ${id} was invoked and is still pending`);
    this.pending.delete(id);
    return operation;
  }

  private tick(): number {
    const time = this.now();
    assert(Number.isFinite(time), 'the recorder clock reads a finite time');
    assert(time >= this.lastTime, `the recorder clock never goes backwards (${time} after ${this.lastTime})`);
    this.lastTime = time;
    return time;
  }
}
