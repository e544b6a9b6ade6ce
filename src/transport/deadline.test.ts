import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { raceWithDeadline } from './deadline.ts';

describe('raceWithDeadline', () => {
  it('a timeout says whole milliseconds, what remained of a deadline being fractional', async () => {
    const never = new Promise<never>(() => undefined);
    await assert.rejects(
      raceWithDeadline(never, { timeoutMs: 4.997999999998 }, 'forwarded write'),
      (error: unknown) => isWeftError(error, 'TIMEOUT') && error.message === 'forwarded write timed out after 5 ms',
    );
  });

  it('an aborted call says so, and the work settling first wins', async () => {
    const controller = new AbortController();
    const pending = raceWithDeadline(
      new Promise<never>(() => undefined),
      { timeoutMs: 60_000, signal: controller.signal },
      'read',
    );
    controller.abort();
    await assert.rejects(pending, (error: unknown) => isWeftError(error, 'ABORTED'));
    assert.equal(await raceWithDeadline(Promise.resolve(7), { timeoutMs: 60_000 }, 'read'), 7);
  });
});
