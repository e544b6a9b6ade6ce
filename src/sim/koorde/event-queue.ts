import { assert } from '../../core/assert.ts';
import { Scheduler } from '../core/scheduler.ts';

/**
 * Simulated time for the Koorde simulator, in ticks: the shared
 * deterministic scheduler (equal ticks run in the order scheduled, so a run
 * replays exactly) with a bound on events per run as a bug guard.
 */
export class EventQueue {
  private readonly scheduler = new Scheduler();

  get now(): number {
    return this.scheduler.now;
  }

  schedule(delayTicks: number, run: () => void): void {
    assert(delayTicks >= 0, 'events are never scheduled in the past');
    this.scheduler.after(delayTicks, run);
  }

  /** Run events up to and including tick `until`; at most `maxEvents` (a bug guard). */
  runUntil(until: number, maxEvents = 50_000_000): void {
    const limit = this.scheduler.eventsRun + maxEvents;
    this.scheduler.runUntil(until, () => this.scheduler.eventsRun >= limit);
    assert(this.scheduler.now >= until, `simulation stayed under ${maxEvents} events`);
  }
}
