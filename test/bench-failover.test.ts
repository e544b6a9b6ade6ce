import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeArgsOf, RecentLines } from '../src/cli/bench-failover-command.ts';
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
    // The election message by message, and when the new leader could serve writes.
    assert.match(run.stdout, /sent preVote peer=n\d term=\d+ rank=0/);
    assert.match(run.stdout, /received voteResp peer=n\d term=\d+ granted=true/);
    assert.match(run.stdout, /committed the first entry of its term index=\d+/);
    assert.match(run.stdout, /EXIT +was killed by SIGKILL/);
    // The probe's own story: each write it sent, and which member answered the one that committed.
    assert.match(run.stdout, /probe\| write 0 sent/);
    assert.match(run.stdout, /probe\| write \d+ committed; n\d answered/);
    // Each trial's lines come in the order the nodes stamped them.
    for (const trial of run.stdout.split(/s-raft trial \d+:/).slice(1)) {
      // The probe runs in a thread of its own: its times come back on this clock, the kill at 0.
      const totalMs = Number(/^ ([\d.]+) ms;/.exec(trial)?.[1]);
      const sent = Number(/^ {2}\+ *(-?\d+) ms probe\| write 0 sent$/m.exec(trial)?.[1]);
      const committed = Number(/^ {2}\+ *(-?\d+) ms probe\| write \d+ committed/m.exec(trial)?.[1]);
      assert.ok(sent >= 0 && sent <= committed, trial);
      // The probe gives up 30 s after the kill: a longer trial would mean the two threads' clocks were mixed.
      assert.ok(totalMs < 30_000, trial);
      assert.ok(Math.abs(committed - totalMs) <= 1, trial);
      const offsets = [...trial.matchAll(/^ {2}\+ *(-?\d+) ms/gm)].map((m) => Number(m[1]));
      assert.ok(offsets.length > 0, trial);
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        trial,
      );
    }
  });

  it('rejects a mode it does not know, naming the choices', async () => {
    const run = await runWeft(['bench', 'failover', '--mode', 'paxos']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /mode.*s-raft.*raft.*both/);
  });
});

describe('--node-args', () => {
  it("reaches every node: a flag no node knows stops the run with the node's own error", async () => {
    const peers = await freePortRange(3);
    const http = await freePortRange(3);
    const run = await runWeft([
      ...['bench', 'failover', '--mode', 's-raft', '--trials', '1'],
      ...['--base-port', String(peers), '--http-base-port', String(http)],
      '--node-args=--snapshot-entries 5000 --no-such-flag',
    ]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /no-such-flag/);
  });

  it('splits on whitespace and refuses the flags the bench sets itself, naming its own', () => {
    assert.deepEqual(nodeArgsOf('  --snapshot-entries 10000   --wal-delay-ms=5 '), [
      ...['--snapshot-entries', '10000', '--wal-delay-ms=5'],
    ]);
    assert.deepEqual(nodeArgsOf(''), []);
    assert.throws(
      () => nodeArgsOf('--heartbeat-ms 5'),
      /--heartbeat-ms is set by weft bench failover itself: give it to the bench/,
    );
    assert.throws(() => nodeArgsOf('--consensus=raft'), /give the bench --mode/);
  });
});

describe('summarize', () => {
  it('takes nearest-rank percentiles of an unsorted sample', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.deepEqual(summarize(sample), { p50: 50, p99: 99, max: 100 });
    assert.deepEqual(summarize([7]), { p50: 7, p99: 7, max: 7 });
  });
});

describe('RecentLines', () => {
  const at = (h: number, m: number, s: number, ms: number): number => Date.UTC(2026, 10, 22, h, m, s, ms);

  it('places a line at the moment its node stamped it, not when it arrived', () => {
    const lines = new RecentLines();
    const wall = at(12, 0, 0, 500);
    // Two lines of a busy node arrive together at 1000 (performance.now()), stamped 40 and 10 ms before.
    lines.add('n2  | 12:00:00.460 INFO  lost the connection to a member', 1_000, wall);
    lines.add('n2  | 12:00:00.490 INFO  raft role changed', 1_000, wall);
    lines.add('n1  | 12:00:00.470 INFO  raft role changed', 1_005, wall + 5);
    assert.deepEqual(
      lines.between(0, 2_000).map(({ at, line }) => [at, line.slice(0, 2)]),
      [
        [960, 'n2'],
        [970, 'n1'],
        [990, 'n2'],
      ],
    );
    assert.equal(lines.between(961, 989).length, 1);
  });

  it('handles midnight between the stamp and the arrival, and lines with no stamp', () => {
    const lines = new RecentLines();
    lines.add('n3  | 23:59:59.990 INFO  lost the connection to a member', 500, at(0, 0, 0, 10));
    lines.add('a stack trace line', 501, at(0, 0, 0, 11));
    assert.deepEqual(
      lines.between(0, 1_000).map(({ at }) => at),
      [480, 501],
    );
  });
});
