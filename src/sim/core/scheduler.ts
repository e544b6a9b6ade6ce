import { assert } from '../../core/assert.ts';

interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Virtual time for the simulator: a min-heap of callbacks ordered by time,
 * ties broken by scheduling order, so a run is a pure function of its seed.
 * Time is in simulated milliseconds and jumps from event to event.
 */
export class Scheduler {
  now = 0;
  private seq = 0;
  private readonly heap: Scheduled[] = [];
  /** Events run so far, for budgets and statistics. */
  eventsRun = 0;

  at(time: number, run: () => void): void {
    assert(time >= this.now, `events are scheduled in the future (${time} < ${this.now})`);
    this.push({ time, seq: this.seq++, run });
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.now + Math.max(0, delayMs), run);
  }

  /** Run events up to and including `time`, or until `stop()` returns true. */
  runUntil(time: number, stop: () => boolean = () => false): void {
    while (this.heap.length > 0 && (this.heap[0]?.time ?? Infinity) <= time) {
      const next = this.pop();
      this.now = next.time;
      this.eventsRun += 1;
      next.run();
      if (stop()) return;
    }
    this.now = Math.max(this.now, time);
  }

  get pending(): number {
    return this.heap.length;
  }

  private push(item: Scheduled): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Scheduled {
    const heap = this.heap;
    const top = heap[0];
    assert(top !== undefined, 'pop from a non-empty heap');
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
