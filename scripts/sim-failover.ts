// The failover experiment (issue 4): crash the leader under a write load at
// a random moment, N trials per mode, and report client-visible
// unavailability; then count false elections in a fault-free simulated hour.
//   npm run sim:failover -- [--mode raft|s-raft|both] [--trials N] [--heartbeat-ms H]
//                           [--latency loopback|lan|wan|MIN+MEAN] [--no-crash-hint] [--hours H]
import { parseArgs } from 'node:util';
import { nearestRank } from '../src/core/quantile.ts';
import {
  countFalseElections,
  loopbackFailover,
  runFailoverTrial,
  type FailoverSettings,
} from '../src/sim/raft/failover.ts';

const latencies: Record<string, [number, number]> = {
  loopback: [0.05, 0.05],
  lan: [0.2, 0.3],
  wan: [10, 5],
};

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    trials: { type: 'string', default: '200' },
    'heartbeat-ms': { type: 'string', default: String(loopbackFailover.heartbeatMs) },
    latency: { type: 'string', default: 'loopback' },
    'no-crash-hint': { type: 'boolean', default: false },
    hours: { type: 'string', default: '1' },
  },
  strict: true,
});

function fail(message: string): never {
  console.error(`weft sim:failover: ${message}`);
  process.exit(2);
}

const modes = values.mode === 'both' ? (['raft', 's-raft'] as const) : [values.mode];
for (const mode of modes) if (mode !== 'raft' && mode !== 's-raft') fail('--mode must be raft, s-raft or both');
const trials = Number(values.trials);
const heartbeatMs = Number(values['heartbeat-ms']);
const hours = Number(values.hours);
if (!Number.isSafeInteger(trials) || trials < 1) fail('--trials must be a whole number ≥ 1');
if (!(heartbeatMs >= 1)) fail('--heartbeat-ms must be at least 1');
if (!(hours >= 0)) fail('--hours must be ≥ 0');
const latency = latencies[values.latency] ?? parseLatency(values.latency);

function parseLatency(text: string): [number, number] {
  const match = /^([\d.]+)\+([\d.]+)$/.exec(text);
  if (match === null) fail('--latency must be loopback, lan, wan or MIN+MEAN (milliseconds)');
  return [Number(match[1]), Number(match[2])];
}

function percentile(sorted: readonly number[], p: number): number {
  return nearestRank(sorted, p / 100);
}

const lines: string[] = [];
console.log(
  `failover: ${trials} trials per mode, 3 members, heartbeat ${heartbeatMs} ms, election timeout 10-20 heartbeats, ` +
    `S-Raft promotion after 3; latency ${latency[0]}+exp(${latency[1]}) ms; crash hint ${values['no-crash-hint'] ? 'off' : 'on'}`,
);
console.log('mode     p50_ms   p99_ms   max_ms   detect_p50   elect_p50   false_elections');
for (const mode of modes) {
  const settings: FailoverSettings = {
    ...loopbackFailover,
    mode: mode as FailoverSettings['mode'],
    heartbeatMs,
    latencyMinMs: latency[0],
    latencyMeanMs: latency[1],
    crashHint: !values['no-crash-hint'],
  };
  const results = Array.from({ length: trials }, (_, i) => runFailoverTrial(i + 1, settings));
  const unavailable = results.map((r) => r.unavailableMs).sort((a, b) => a - b);
  const detected = results.map((r) => r.detectedMs).sort((a, b) => a - b);
  const elected = results.map((r) => r.electedMs).sort((a, b) => a - b);
  const falseElections = hours > 0 ? countFalseElections(1, settings, hours * 3_600_000) : 0;
  const f = (n: number): string => n.toFixed(1).padStart(8);
  console.log(
    `${mode.padEnd(7)}${f(percentile(unavailable, 50))} ${f(percentile(unavailable, 99))} ${f(unavailable.at(-1) ?? NaN)}   ${f(
      percentile(detected, 50),
    )}    ${f(percentile(elected, 50))}   ${String(falseElections).padStart(8)}`,
  );
  lines.push(
    `mode=${mode} p50_ms=${percentile(unavailable, 50).toFixed(1)} p99_ms=${percentile(unavailable, 99).toFixed(1)} max_ms=${(unavailable.at(-1) ?? NaN).toFixed(1)} false_elections=${falseElections} hours=${hours}`,
  );
}
console.log(lines.join('\n'));
