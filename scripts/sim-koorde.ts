// Koorde (and the Chord baseline) in the deterministic simulator, one row per
// configuration, every lookup checked against the oracle.
//   npm run sim:koorde -- --nodes 1000,10000 --degree 2,8 [--churn RATE] [--leave RATE] [--lookups N] [--seed S] [--no-chord]
// --churn RATE: that fraction of the nodes crashes per stabilization round;
// --leave RATE: that fraction leaves gracefully; as many join as crash and
// leave, so the size holds. The Chord baseline runs only without churn.
import { parseArgs } from 'node:util';
import { defaultSimConfig, simulate, type SimConfig, type SimResult } from '../src/sim/koorde/simulation.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000,10000' },
    degree: { type: 'string', default: '2,8' },
    churn: { type: 'string', default: '0' },
    leave: { type: 'string', default: '0' },
    lookups: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    'no-chord': { type: 'boolean', default: false },
  },
});

const list = (text: string): number[] => text.split(',').map((item) => Number(item.trim()));
const churn = Number(values.churn);
const leave = Number(values.leave);
const base: SimConfig = { ...defaultSimConfig, lookups: Number(values.lookups), seed: Number(values.seed) };

const header = [
  'protocol',
  'nodes',
  'k',
  'churn',
  'leave',
  'log_k(n)',
  'mean hops',
  'p99 hops',
  'correct',
  'failed',
  'msgs/lookup',
  'p50 ms',
  'p99 ms',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
const lines: string[] = [];

function row(result: SimResult): void {
  const { config } = result;
  const k = config.protocol === 'chord' ? 2 : config.degree;
  const bound = Math.log(config.nodes) / Math.log(k);
  const correctPct = (100 * result.correct) / result.lookups;
  const cells = [
    config.protocol,
    config.nodes,
    config.protocol === 'chord' ? '-' : config.degree,
    config.crashPerRound,
    config.leavePerRound,
    bound.toFixed(2),
    result.hopsMean.toFixed(2),
    result.hopsP99,
    `${result.correct}/${result.lookups} (${correctPct.toFixed(2)}%)`,
    result.failed,
    result.messagesPerLookup.toFixed(1),
    result.latencyMedianTicks,
    result.latencyP99Ticks,
  ];
  console.log(`| ${cells.join(' | ')} |`);
  lines.push(
    `nodes=${config.nodes} degree=${cells[2]} churn=${config.crashPerRound} mean_hops=${result.hopsMean.toFixed(2)} ` +
      `p99_hops=${result.hopsP99} correct_pct=${correctPct.toFixed(2)} protocol=${config.protocol} leave=${config.leavePerRound}`,
  );
}

for (const nodes of list(values.nodes)) {
  for (const degree of list(values.degree)) {
    const config = { ...base, nodes, degree, crashPerRound: churn, joinPerRound: churn + leave, leavePerRound: leave };
    row(simulate(config));
  }
  if (!values['no-chord'] && churn === 0 && leave === 0) row(simulate({ ...base, nodes, protocol: 'chord' }));
}
console.log('');
for (const line of lines) console.log(line);
console.log('(latency in simulated ms: one-way delay 5-25 ms, timeout 200 ms, stabilization round 1000 ms)');
