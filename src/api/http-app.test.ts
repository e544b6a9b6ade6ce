import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createNodeMetrics } from '../node/metrics.ts';
import type { HealthReport } from '../node/node.ts';
import { buildHttpApp } from './http-app.ts';

const health: HealthReport = {
  status: 'ok',
  id: 'n1',
  version: '0.1.0',
  pid: 42,
  uptimeSeconds: 1.5,
  peers: [{ id: 'n2', address: '127.0.0.1:4002', reachable: true, rttMs: 0.4 }],
  kv: {
    role: 'leader',
    leader: 'n1',
    term: 2,
    commit: 4,
    applied: 4,
    voters: ['n1'],
    learners: [],
    successors: [],
    removed: false,
  },
};

function app(notReady?: string) {
  return buildHttpApp({
    health: () => health,
    unhealthyReason: () => undefined,
    notReadyReason: () => notReady,
    metrics: createNodeMetrics('n1', '0.1.0'),
    log: pino({ level: 'silent' }),
  });
}

describe('HTTP app', () => {
  it('GET /health returns the node report as JSON', async () => {
    const response = await app().inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), health);
  });

  it('GET /health is 503 with the reason when the node has no leader or quorum', async () => {
    const server = buildHttpApp({
      health: () => health,
      unhealthyReason: () => 'no Raft leader is known',
      notReadyReason: () => undefined,
      metrics: createNodeMetrics('n1', '0.1.0'),
      log: pino({ level: 'silent' }),
    });
    const response = await server.inject({ url: '/health' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().unhealthy, 'no Raft leader is known');
    assert.equal(response.json().id, 'n1');
  });

  it('GET /ready is 200 when ready and 503 with the reason when not', async () => {
    assert.equal((await app().inject({ url: '/ready' })).statusCode, 200);
    const response = await app('stopping').inject({ url: '/ready' });
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { ready: false, reason: 'stopping' });
  });

  it('GET /metrics is Prometheus text with process and weft_ metrics', async () => {
    const server = app();
    await server.inject({ url: '/health' });
    const response = await server.inject({ url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/plain/);
    assert.match(response.body, /^process_cpu_user_seconds_total /m);
    assert.match(response.body, /^weft_info\{node="n1",version="0.1.0"\} 1$/m);
    assert.match(response.body, /^weft_http_requests_total\{route="\/health",method="GET",status="200"\} 1$/m);
  });

  it('an unknown route is a JSON 404 that says where the routes are listed', async () => {
    const response = await app().inject({ url: '/nope' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'NOT_FOUND');
    assert.match(response.json().error.message, /docs\/api.md/);
  });
});
