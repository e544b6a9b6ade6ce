// The sequential specifications step by step: which outputs each operation
// may give in a state, what an unknown outcome does, and the KV partition.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { kvModel, type KvInput, type KvOutput, type KvState } from './kv-model.ts';
import type { StepResult } from './model.ts';
import { registerModel } from './register-model.ts';
import { historyOf } from './testkit/build.ts';

const state = (entries: Record<string, string>): KvState => new Map(Object.entries(entries));
const next = (result: StepResult<KvState>) => (result.ok ? Object.fromEntries(result.next) : 'illegal');
const step = (from: Record<string, string>, input: KvInput, output: KvOutput | undefined) =>
  next(kvModel.step(state(from), input, output));

const OK: KvOutput = { kind: 'ok' };
const FAILED: KvOutput = { kind: 'failed' };

describe('kv model', () => {
  it('gets the current value, absent as null', () => {
    assert.deepEqual(step({}, { kind: 'get', key: 'x' }, { kind: 'value', value: null }), {});
    assert.equal(step({}, { kind: 'get', key: 'x' }, { kind: 'value', value: '1' }), 'illegal');
    assert.deepEqual(step({ x: '1' }, { kind: 'get', key: 'x' }, { kind: 'value', value: '1' }), { x: '1' });
    assert.deepEqual(step({ x: '1' }, { kind: 'get', key: 'x' }, undefined), { x: '1' });
  });

  it('puts and deletes unconditionally', () => {
    assert.deepEqual(step({ x: '1' }, { kind: 'put', key: 'x', value: '2' }, OK), { x: '2' });
    assert.deepEqual(step({ x: '1', y: '1' }, { kind: 'delete', key: 'x' }, OK), { y: '1' });
    assert.deepEqual(step({}, { kind: 'delete', key: 'x' }, undefined), {});
  });

  it('compares and sets, with expected null meaning absent', () => {
    const casAbsent: KvInput = { kind: 'cas', key: 'x', expected: null, value: '1' };
    assert.deepEqual(step({}, casAbsent, OK), { x: '1' });
    assert.equal(step({}, casAbsent, FAILED), 'illegal');
    assert.equal(step({ x: '0' }, casAbsent, OK), 'illegal');
    assert.deepEqual(step({ x: '0' }, casAbsent, FAILED), { x: '0' });
  });

  it('checks the value a failed cas reports, when it reports one', () => {
    const cas: KvInput = { kind: 'cas', key: 'x', expected: '1', value: '2' };
    assert.deepEqual(step({ x: '0' }, cas, { kind: 'failed', actual: '0' }), { x: '0' });
    assert.equal(step({ x: '0' }, cas, { kind: 'failed', actual: '5' }), 'illegal');
    assert.equal(step({}, cas, { kind: 'failed', actual: '0' }), 'illegal');
    assert.deepEqual(step({}, cas, { kind: 'failed', actual: null }), {});
  });

  it('applies an unknown cas exactly when its expected value holds', () => {
    const cas: KvInput = { kind: 'cas', key: 'x', expected: '1', value: '2' };
    assert.deepEqual(step({ x: '1' }, cas, undefined), { x: '2' });
    assert.deepEqual(step({ x: '0' }, cas, undefined), { x: '0' });
  });

  it('hashes equal states equally whatever their insertion order', () => {
    const ab = new Map([
      ['a', '1'],
      ['b', '2'],
    ]);
    const ba = new Map([
      ['b', '2'],
      ['a', '1'],
    ]);
    assert.equal(kvModel.hash(ab), kvModel.hash(ba));
    assert.notEqual(kvModel.hash(ab), kvModel.hash(new Map([['a', '1']])));
  });

  it('partitions a history by key, keeping every operation once', () => {
    const history = historyOf<KvInput, KvOutput>(
      [0, 0, 1, { kind: 'put', key: 'x', value: '1' }, OK],
      [1, 0, '?', { kind: 'get', key: 'y' }],
      [0, 2, 3, { kind: 'delete', key: 'x' }, OK],
    );
    const partitions = kvModel.partition?.(history) ?? [];
    assert.deepEqual(
      partitions.map(({ label, operations }) => [label, operations.map((operation) => operation.id)]),
      [
        ['key "x"', [0, 2]],
        ['key "y"', [1]],
      ],
    );
  });

  it('describes operations and states for reports', () => {
    const describe = kvModel.describeOperation;
    assert.equal(describe({ kind: 'get', key: 'x' }, { kind: 'value', value: null }), 'get("x") → absent');
    assert.equal(
      describe({ kind: 'cas', key: 'x', expected: null, value: '1' }, FAILED),
      'cas("x", absent → "1") → failed',
    );
    assert.equal(describe({ kind: 'delete', key: 'x' }, undefined), 'delete("x") → ?');
    assert.equal(kvModel.describeState(state({ x: '1' })), '"x" = "1"');
    assert.equal(kvModel.describeState(state({})), 'every key is absent');
  });
});

describe('register model', () => {
  const register = registerModel(7);

  it('starts at its initial value and reads it', () => {
    assert.deepEqual(register.step(register.init(), { kind: 'read' }, { kind: 'value', value: 7 }), {
      ok: true,
      next: 7,
    });
    assert.deepEqual(register.step(7, { kind: 'read' }, { kind: 'value', value: 0 }), { ok: false });
  });

  it('writes, and compares and sets only when the expected value holds', () => {
    assert.deepEqual(register.step(7, { kind: 'write', value: 1 }, { kind: 'ok' }), { ok: true, next: 1 });
    assert.deepEqual(register.step(7, { kind: 'cas', expected: 7, value: 2 }, { kind: 'ok' }), { ok: true, next: 2 });
    assert.deepEqual(register.step(7, { kind: 'cas', expected: 7, value: 2 }, { kind: 'failed' }), { ok: false });
    assert.deepEqual(register.step(7, { kind: 'cas', expected: 1, value: 2 }, { kind: 'failed' }), {
      ok: true,
      next: 7,
    });
    assert.deepEqual(register.step(7, { kind: 'cas', expected: 1, value: 2 }, undefined), { ok: true, next: 7 });
  });
});
