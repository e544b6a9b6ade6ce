// The recorder a workload drives: times from the caller's clock, every
// operation settled once, pending ones unknown at the end.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AssertionFailure } from '../../core/assert.ts';
import { checkLinearizability } from './check.ts';
import { registerModel, type RegisterInput, type RegisterOutput } from './register-model.ts';
import { HistoryRecorder } from './recorder.ts';

function recorderAt(): { recorder: HistoryRecorder<RegisterInput, RegisterOutput>; clock: { now: number } } {
  const clock = { now: 0 };
  return { recorder: new HistoryRecorder<RegisterInput, RegisterOutput>(() => clock.now), clock };
}

describe('history recorder', () => {
  it('records calls and returns at the clock times, and unknown, failed and pending outcomes', () => {
    const { recorder, clock } = recorderAt();
    const write = recorder.invoke(0, { kind: 'write', value: 1 });
    const timedOut = recorder.invoke(1, { kind: 'write', value: 2 });
    clock.now = 3;
    recorder.ok(write, { kind: 'ok' });
    const rejected = recorder.invoke(2, { kind: 'write', value: 3 });
    clock.now = 5;
    recorder.unknown(timedOut);
    recorder.fail(rejected);
    recorder.invoke(0, { kind: 'read' });
    assert.deepEqual(recorder.history(), [
      { id: 0, clientId: 0, input: { kind: 'write', value: 1 }, call: 0, return: 3, output: { kind: 'ok' } },
      { id: 1, clientId: 1, input: { kind: 'write', value: 2 }, call: 0 },
      { id: 3, clientId: 0, input: { kind: 'read' }, call: 5 },
    ]);
  });

  it('gives a history the checker judges, events at the same clock time being concurrent', () => {
    const staleReadAt = (readTime: number) => {
      const { recorder, clock } = recorderAt();
      const write = recorder.invoke(0, { kind: 'write', value: 1 });
      clock.now = 1;
      recorder.ok(write, { kind: 'ok' });
      clock.now = readTime;
      const read = recorder.invoke(1, { kind: 'read' });
      recorder.ok(read, { kind: 'value', value: 0 });
      return checkLinearizability(registerModel(0), recorder.history()).verdict;
    };
    assert.equal(staleReadAt(1), 'linearizable');
    assert.equal(staleReadAt(2), 'violation');
  });

  it('settles an operation once', () => {
    const { recorder } = recorderAt();
    const id = recorder.invoke(0, { kind: 'read' });
    recorder.unknown(id);
    assert.throws(() => recorder.ok(id, { kind: 'value', value: 0 }), AssertionFailure);
    assert.throws(() => recorder.fail(99), AssertionFailure);
  });

  it('refuses a clock that goes backwards', () => {
    const { recorder, clock } = recorderAt();
    clock.now = 10;
    const id = recorder.invoke(0, { kind: 'read' });
    clock.now = 9;
    assert.throws(() => recorder.ok(id, { kind: 'value', value: 0 }), /never goes backwards/);
  });
});
