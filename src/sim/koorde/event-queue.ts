import { assert } from '../../core/assert.ts';

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Simulated time: a binary heap of callbacks ordered by (tick, insertion).
 * Equal ticks run in the order scheduled, so a run replays exactly.
 */
export class EventQueue {
  now = 0;
  private heap: Event[] = [];
  private seq = 0;

  schedule(delayTicks: number, run: () => void): void {
    assert(delayTicks >= 0, 'events are never scheduled in the past');
    this.push({ at: this.now + delayTicks, seq: this.seq++, run });
  }

  /** Run events up to and including tick `until`; at most `maxEvents` (a bug guard). */
  runUntil(until: number, maxEvents = 50_000_000): void {
    for (let count = 0; count < maxEvents; count += 1) {
      const top = this.heap[0];
      if (top === undefined || top.at > until) {
        this.now = until;
        return;
      }
      this.pop();
      this.now = top.at;
      top.run();
    }
    assert(false, `simulation stayed under ${maxEvents} events`);
  }

  private push(event: Event): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
      if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
      if (best === i) return;
      [heap[i], heap[best]] = [heap[best]!, heap[i]!];
      i = best;
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
