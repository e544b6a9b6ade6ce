import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { findSuccessorStep } from '../../koorde/find-successor.ts';
import type { RoutingTable } from '../../koorde/routing-table.ts';
import { defaultSimConfig, simulate } from './simulation.ts';

// Bounded runs for npm test (about a second each); scripts/sim-koorde.ts runs
// the 10,000-node configurations.
describe('Koorde simulator with oracle', () => {
  it('a stable ring of 1,000 nodes (k=8) answers every lookup correctly in about log_k(n) hops', () => {
    const result = simulate({ ...defaultSimConfig, nodes: 1000, degree: 8, lookups: 2000 });
    assert.equal(result.lookups, 2000);
    assert.equal(result.correct, 2000);
    assert.ok(result.hopsMean <= Math.log(1000) / Math.log(8) + 2, `mean hops ${result.hopsMean}`);
  });

  it('k=2 on the same ring is correct too, with more hops', () => {
    const result = simulate({ ...defaultSimConfig, nodes: 1000, degree: 2, lookups: 1000 });
    assert.equal(result.correct, 1000);
    assert.ok(result.hopsMean > simulate({ ...defaultSimConfig, lookups: 1000 }).hopsMean);
  });

  it('the Chord baseline answers every lookup correctly on the same ring', () => {
    const result = simulate({ ...defaultSimConfig, protocol: 'chord', lookups: 1000 });
    assert.equal(result.correct, 1000);
  });

  it('under churn (1% crash, 1% join, 0.5% leave per round) at least 99.9% of lookups are right', () => {
    const churn = { crashPerRound: 0.01, joinPerRound: 0.01, leavePerRound: 0.005 };
    const result = simulate({ ...defaultSimConfig, nodes: 500, lookups: 2000, ...churn });
    assert.ok(result.crashes > 0 && result.joins > 0 && result.leaves > 0, JSON.stringify(result));
    assert.ok(result.correct / result.lookups >= 0.999, JSON.stringify(result));
  });

  it('replays exactly from its seed', () => {
    const config = { ...defaultSimConfig, nodes: 200, lookups: 300, crashPerRound: 0.02, joinPerRound: 0.02 };
    assert.deepEqual(simulate(config), simulate(config));
  });

  it('the oracle catches a planted bug: nodes that keep their successor’s keys', () => {
    const offByOne = (table: RoutingTable, request: Parameters<typeof findSuccessorStep>[1]) => {
      const reply = findSuccessorStep(table, request);
      const claimsSuccessors = reply.kind === 'owner' && reply.predecessor?.id === table.self.id;
      return claimsSuccessors ? { ...reply, owners: [table.self, ...reply.owners] } : reply;
    };
    const result = simulate({ ...defaultSimConfig, nodes: 200, lookups: 500 }, { step: offByOne });
    assert.ok(result.wrong >= 10, `the oracle flagged ${result.wrong} wrong answers`);
  });
});
