// What a caller gets back besides the verdict: the smallest failing
// partition, a readable explanation, and `unknown` when the step budget runs
// out before a verdict.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkLinearizability } from './check.ts';
import { kvModel, type KvInput, type KvOutput } from './kv-model.ts';
import { historyOf, type OperationSpec } from './testkit/build.ts';

type Spec = OperationSpec<KvInput, KvOutput>;

const get = (key: string): KvInput => ({ kind: 'get', key });
const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value });
const del = (key: string): KvInput => ({ kind: 'delete', key });
const cas = (key: string, expected: string | null, value: string): KvInput => ({ kind: 'cas', key, expected, value });
const saw = (value: string | null): KvOutput => ({ kind: 'value', value });
const OK: KvOutput = { kind: 'ok' };

/** A stale read of "x" among writes, a failed cas, an unknown delete, and an unrelated key. */
const staleRead: Spec[] = [
  [0, 0, 2, put('x', '1'), OK],
  [1, 1, 3, get('y'), saw(null)],
  [0, 3, 6, put('x', '2'), OK],
  [2, 4, 5, cas('x', '1', '3'), { kind: 'failed', actual: '2' }],
  [1, 7, 9, get('x'), saw('1')],
  [2, 6, '?', del('x')],
];

describe('linearizability checker: failure reports', () => {
  it('explains a violation with the longest legal prefix, the stuck candidates and a timeline per client', () => {
    const result = checkLinearizability(kvModel, historyOf(...staleRead));
    assert.equal(result.verdict, 'violation');
    assert.equal(result.partition.label, 'key "x"');
    assert.equal(
      result.explanation,
      [
        'not linearizable: key "x" (5 operations, 3 clients)',
        'longest legal prefix (3 operations), after which "x" = "2":',
        '  1. #0 client 0 [0, 2] put("x", "1") → ok',
        '  2. #2 client 0 [3, 6] put("x", "2") → ok',
        '  3. #3 client 2 [4, 5] cas("x", "1" → "3") → failed (saw "2")',
        '#4 must take effect by t=9 (its return), but no operation invoked by then can come next:',
        '  #5 client 2 [6, ?] delete("x") → ?: legal, but no order of the remaining operations works after it',
        '  #4 client 1 [7, 9] get("x") → "1": illegal in that state',
        'timeline of the operations involved ([call, return], ? = no response):',
        '  client 0: #2 [3, 6] put("x", "2") → ok',
        '  client 1: #4 [7, 9] get("x") → "1"',
        '  client 2: #3 [4, 5] cas("x", "1" → "3") → failed (saw "2")  ·  #5 [6, ?] delete("x") → ?',
      ].join('\n'),
    );
  });

  it('reports the smallest failing partition when several fail', () => {
    const history = historyOf<KvInput, KvOutput>(
      [0, 0, 1, put('big', '1'), OK],
      [0, 2, 3, put('big', '2'), OK],
      [1, 4, 5, get('big'), saw('1')],
      [0, 6, 7, put('small', '1'), OK],
      [1, 8, 9, get('small'), saw(null)],
      [2, 0, 9, get('fine'), saw(null)],
    );
    const result = checkLinearizability(kvModel, history);
    assert.equal(result.verdict, 'violation');
    assert.equal(result.partition.label, 'key "small"');
    assert.deepEqual(
      result.involved.map((operation) => operation.id),
      [3, 4],
    );
  });

  it('returns unknown, naming the undecided partitions, when the step budget runs out', () => {
    const history = historyOf(...staleRead);
    const tight = checkLinearizability(kvModel, history, { searchStepsMax: 3 });
    assert.deepEqual(tight, { verdict: 'unknown', undecided: ['key "x"'], searchSteps: 3 });
    const ample = checkLinearizability(kvModel, history, { searchStepsMax: 100 });
    assert.equal(ample.verdict, 'violation');
    assert.ok(ample.searchSteps <= 100);
  });

  it('spends no more than the budget across partitions, checking the smallest first', () => {
    const history = historyOf<KvInput, KvOutput>(
      [0, 0, 1, put('a', '1'), OK],
      [0, 2, 3, get('a'), saw('1')],
      [1, 0, 1, get('b'), saw(null)],
    );
    const full = checkLinearizability(kvModel, history);
    assert.equal(full.verdict, 'linearizable');
    assert.deepEqual(
      full.linearizations.map(({ order }) => order.map((operation) => operation.id)),
      [[2], [0, 1]],
    );
    const short = checkLinearizability(kvModel, history, { searchStepsMax: full.searchSteps - 1 });
    assert.deepEqual(short, { verdict: 'unknown', undecided: ['key "a"'], searchSteps: full.searchSteps - 1 });
  });
});
