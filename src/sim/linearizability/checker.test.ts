// The classic small histories, each judged by hand first: what a correct
// replicated register may show (OK) and what it never may (BAD), including
// operations whose outcome the client never learned.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkLinearizability, type Violation } from './check.ts';
import type { Operation } from './history.ts';
import { registerModel, type RegisterInput, type RegisterOutput } from './register-model.ts';
import { historyOf, type OperationSpec } from './testkit/build.ts';
import { linearizationFlaw } from './testkit/oracles.ts';

type Spec = OperationSpec<RegisterInput, RegisterOutput>;
type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

const register = registerModel(0);
const read: RegisterInput = { kind: 'read' };
const write = (value: number): RegisterInput => ({ kind: 'write', value });
const cas = (expected: number, value: number): RegisterInput => ({ kind: 'cas', expected, value });
const saw = (value: number): RegisterOutput => ({ kind: 'value', value });
const OK: RegisterOutput = { kind: 'ok' };

function expectLinearizable(...specs: Spec[]): void {
  const history = historyOf(...specs);
  const result = checkLinearizability(register, history);
  assert.equal(result.verdict, 'linearizable');
  assert.equal(result.linearizations.length, 1);
  assert.equal(linearizationFlaw(register, history, result.linearizations[0]?.order ?? []), undefined);
}

function expectViolation(...specs: Spec[]): Violation<RegisterInput, RegisterOutput> {
  const result = checkLinearizability(register, historyOf(...specs));
  assert.equal(result.verdict, 'violation');
  return result;
}

const ids = (operations: readonly RegisterOperation[]) => operations.map((operation) => operation.id).sort();

describe('linearizability checker: classic histories', () => {
  it('accepts the empty history without searching', () => {
    const result = checkLinearizability(register, []);
    assert.equal(result.verdict, 'linearizable');
    assert.deepEqual(result.linearizations[0]?.order, []);
    assert.equal(result.searchSteps, 0);
  });

  it('rejects a stale read after a completed write, and names the operations involved', () => {
    const violation = expectViolation([0, 0, 1, write(1), OK], [1, 2, 3, read, saw(0)]);
    assert.deepEqual(ids(violation.involved), [0, 1]);
    assert.deepEqual(ids(violation.longestPrefix), [0]);
  });

  it('lets a read concurrent with a write see either value, but never new then old', () => {
    expectLinearizable([0, 0, 10, write(1), OK], [1, 1, 2, read, saw(0)], [1, 3, 4, read, saw(1)]);
    expectViolation([0, 0, 10, write(1), OK], [1, 1, 2, read, saw(1)], [1, 3, 4, read, saw(0)]);
  });

  it('treats touching intervals as concurrent (closed intervals)', () => {
    expectLinearizable([0, 0, 2, write(1), OK], [1, 2, 3, read, saw(0)]);
    expectViolation([0, 0, 2, write(1), OK], [1, 3, 4, read, saw(0)]);
  });

  it('rejects two readers that observe two concurrent writes in opposite orders', () => {
    const writes: Spec[] = [
      [0, 0, 10, write(1), OK],
      [1, 0, 10, write(2), OK],
    ];
    expectLinearizable(...writes, [2, 1, 2, read, saw(1)], [2, 3, 4, read, saw(2)], [3, 1, 2, read, saw(1)]);
    expectViolation(
      ...writes,
      [2, 1, 2, read, saw(1)],
      [2, 3, 4, read, saw(2)],
      [3, 1, 2, read, saw(2)],
      [3, 3, 4, read, saw(1)],
    );
  });

  it('rejects a cas success observed twice, unless a write put the expected value back', () => {
    const twice: Spec[] = [
      [0, 0, 5, cas(0, 1), OK],
      [1, 0, 5, cas(0, 1), OK],
    ];
    expectViolation(...twice);
    expectLinearizable(...twice, [2, 0, 5, write(0), OK]);
  });

  it('accepts a lost update made by the application (read-then-write), rejects one made by the store', () => {
    expectLinearizable(
      [0, 0, 2, read, saw(0)],
      [1, 0, 2, read, saw(0)],
      [0, 3, 4, write(1), OK],
      [1, 3, 4, write(1), OK],
    );
    expectViolation([0, 0, 1, write(1), OK], [1, 2, 3, write(2), OK], [2, 4, 5, read, saw(1)]);
  });
});

describe('linearizability checker: unknown outcomes', () => {
  it('accepts both readings of a write that may or may not have happened', () => {
    expectLinearizable([0, 0, '?', write(1)], [1, 5, 6, read, saw(1)]);
    expectLinearizable([0, 0, '?', write(1)], [1, 5, 6, read, saw(0)]);
  });

  it('rejects an unknown write that is seen and then unseen', () => {
    expectViolation([0, 0, '?', write(1)], [1, 5, 6, read, saw(1)], [1, 7, 8, read, saw(0)]);
  });

  it('rejects an unknown write whose effect is observed before its call', () => {
    const violation = expectViolation([1, 0, 1, read, saw(1)], [0, 5, '?', write(1)]);
    assert.deepEqual(ids(violation.involved), [0]);
  });

  it('lets an unknown write take effect long after its client gave up', () => {
    expectLinearizable([0, 0, '?', write(1)], [1, 10, 11, read, saw(0)], [1, 100, 101, read, saw(1)]);
  });

  it('applies an unknown cas only where its expected value holds', () => {
    expectLinearizable([0, 0, '?', cas(0, 1)], [1, 5, 6, read, saw(1)]);
    expectLinearizable([0, 0, '?', cas(0, 1)], [1, 5, 6, read, saw(0)]);
    expectViolation([2, 0, 1, write(2), OK], [0, 2, '?', cas(0, 1)], [1, 5, 6, read, saw(1)]);
  });
});
