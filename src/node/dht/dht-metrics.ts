import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LookupResult } from './dht-member.ts';

/** The DHT's Prometheus metrics, on the node's registry (docs/api.md). */
export interface DhtMetrics {
  lookupDone(result: LookupResult | undefined): void;
}

export function createDhtMetrics(
  registry: Registry,
  state: { joined: () => boolean; items: () => number; successors: () => number },
): DhtMetrics {
  const registers = [registry];
  new Gauge({
    name: 'weft_dht_joined',
    help: '1 once this node has joined the DHT ring',
    registers,
    collect() {
      this.set(state.joined() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'weft_dht_items',
    help: 'DHT items this node holds, as owner or replica',
    registers,
    collect() {
      this.set(state.items());
    },
  });
  new Gauge({
    name: 'weft_dht_successors',
    help: 'Successors this node currently knows',
    registers,
    collect() {
      this.set(state.successors());
    },
  });
  const lookups = new Counter({
    name: 'weft_dht_lookups_total',
    help: 'Lookups this node ran, by result',
    labelNames: ['result'],
    registers,
  });
  const hops = new Histogram({
    name: 'weft_dht_lookup_hops',
    help: 'Find-successor requests answered per successful lookup',
    buckets: [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
    registers,
  });
  return {
    lookupDone(result) {
      lookups.inc({ result: result === undefined ? 'failed' : 'ok' });
      if (result !== undefined) hops.observe(result.hops);
    },
  };
}
