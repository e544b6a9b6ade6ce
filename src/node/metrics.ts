import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * The node's Prometheus registry: process metrics plus weft_* metrics. One
 * registry per node (not prom-client's global) so tests can run several
 * nodes in one process.
 */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly peerUp: Gauge<'peer'>;
  readonly peerRttSeconds: Gauge<'peer'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
}

export function createNodeMetrics(nodeId: string, version: string): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'weft_info',
    help: 'Constant 1, labelled with the node id and version',
    labelNames: ['node', 'version'],
    registers: [registry],
  });
  info.set({ node: nodeId, version }, 1);
  const started = performance.now();
  new Gauge({
    name: 'weft_uptime_seconds',
    help: 'Seconds since this node started',
    registers: [registry],
    collect() {
      this.set((performance.now() - started) / 1000);
    },
  });
  return {
    registry,
    peerUp: new Gauge({
      name: 'weft_peer_up',
      help: '1 when the peer answered its last ping, else 0',
      labelNames: ['peer'],
      registers: [registry],
    }),
    peerRttSeconds: new Gauge({
      name: 'weft_peer_rtt_seconds',
      help: 'Round-trip time of the last successful ping to the peer',
      labelNames: ['peer'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'weft_http_requests_total',
      help: 'HTTP requests served, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
  };
}
