import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize } from '../src/cli/bench/failover.ts';
import { freePortRange } from './helpers/ports.ts';
import { runWeft } from './helpers/weft-process.ts';

describe('weft bench failover', () => {
  it('kills the leader of a real 3-process cluster and reports what a writer saw', async () => {
    const peers = await freePortRange(3);
    const http = await freePortRange(3);
    const run = await runWeft([
      ...['bench', 'failover', '--mode', 's-raft', '--trials', '2', '--warmup-ms', '300'],
      ...['--base-port', String(peers), '--http-base-port', String(http), '--load-clients', '2'],
      ...['--explain-over', '0'],
    ]);
    assert.equal(run.code, 0, run.stderr);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    const match = /^mode=s-raft p50_ms=([\d.]+) p99_ms=([\d.]+) max_ms=([\d.]+) trials=2$/.exec(last);
    assert.ok(match, `last line: ${last}`);
    const [p50, p99, max] = match.slice(1).map(Number);
    // A write can only commit after a new leader is elected, so the gap is
    // never zero; and the percentiles of one sample are ordered.
    assert.ok(p50! > 0 && p50! <= p99! && p99! <= max!, last);
    // --explain-over 0 explains every trial: the survivors saw the leader go and elected another.
    assert.match(run.stdout, /s-raft trial 1: [\d.]+ ms; the nodes said:/);
    assert.match(run.stdout, /lost the connection to a member/);
    assert.match(run.stdout, /raft role changed role=leader/);
  });

  it('rejects a mode it does not know, naming the choices', async () => {
    const run = await runWeft(['bench', 'failover', '--mode', 'paxos']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /mode.*s-raft.*raft.*both/);
  });
});

describe('summarize', () => {
  it('takes nearest-rank percentiles of an unsorted sample', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.deepEqual(summarize(sample), { p50: 51, p99: 100, max: 100 });
    assert.deepEqual(summarize([7]), { p50: 7, p99: 7, max: 7 });
  });
});
