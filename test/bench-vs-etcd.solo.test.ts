import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const script = fileURLToPath(new URL('../bench/vs-etcd.ts', import.meta.url));

/** The real etcd the comparison runs against: Debian's etcd-server 3.4 (.ci/run installs it). */
function requireEtcd(): void {
  if (!existsSync('/usr/bin/etcd')) {
    throw new Error('etcd 3.4 is needed at /usr/bin/etcd: run "apt-get install -y etcd-server" (as .ci/run does)');
  }
}

describe('bench/vs-etcd.ts', () => {
  it('runs weft and a real etcd side by side and prints the ratio lines', async () => {
    requireEtcd();
    const args = [
      ...['--rounds', '1', '--duration-ms', '1000', '--warmup-ms', '300'],
      ...['--clients', '4', '--trials', '1', '--load-clients', '2'],
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const [failover, ratios] = stdout.trim().split('\n').slice(-2);
    const number = '(\\d+(?:\\.\\d+)?)';
    const failoverLine = new RegExp(
      `^failover_p99_ms_weft=${number} failover_p99_ms_etcd=${number} failover_p99_ms_etcd_matched=${number}$`,
    );
    assert.match(failover ?? '', failoverLine);
    const ratioLine = new RegExp(`^write_tput_ratio=${number} write_p99_ratio=${number} read_tput_ratio=${number}$`);
    const match = ratioLine.exec(ratios ?? '');
    assert.ok(match, `last line: ${ratios}`);
    // Both clusters served the workload: every ratio is a positive finite number.
    for (const ratio of match.slice(1).map(Number)) assert.ok(ratio > 0 && Number.isFinite(ratio), ratios);
    assert.match(stderr, /warm-up weft \(not counted\): write \d+ ops\/s/);
    assert.match(stderr, /warm-up etcd \(not counted\): write \d+ ops\/s/);
    assert.match(stderr, /round 1 weft: write \d+ ops\/s/);
    assert.match(stderr, /round 1 etcd: write \d+ ops\/s/);
    assert.doesNotMatch(stderr, /errors, last:/);
  });
});
