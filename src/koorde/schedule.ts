import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';

export type MaintenanceTask = 'stabilize' | 'check-predecessor' | 'fix-window' | 'sync';

/** How often each task runs, in ticks; see docs/LIMITS.md and the node config. */
export type MaintenanceIntervals = { readonly [T in MaintenanceTask]: number };

export const defaultIntervalsTicks: MaintenanceIntervals = {
  stabilize: 1,
  'check-predecessor': 1,
  'fix-window': 4,
  sync: 5,
};

/**
 * When the periodic tasks are due. Time enters only as `tick()`. Each task
 * starts at a random phase so that nodes started together do not all
 * stabilize in the same instant.
 */
export class MaintenanceSchedule {
  private readonly countdown = new Map<MaintenanceTask, number>();

  constructor(
    private readonly intervals: MaintenanceIntervals,
    prng: Prng,
  ) {
    for (const [task, every] of Object.entries(intervals) as [MaintenanceTask, number][]) {
      assert(Number.isInteger(every) && every >= 1, `${task} runs every whole number of ticks`);
      this.countdown.set(task, prng.int(1, every));
    }
  }

  /** Advance one tick; the tasks due now. */
  tick(): MaintenanceTask[] {
    const due: MaintenanceTask[] = [];
    for (const [task, left] of this.countdown) {
      if (left <= 1) {
        due.push(task);
        this.countdown.set(task, this.intervals[task]);
      } else {
        this.countdown.set(task, left - 1);
      }
    }
    return due;
  }
}
