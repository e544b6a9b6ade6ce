import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveConfig } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';
import { finalizeNodeConfig, nodeConfigSchema, otherPeers, parsePeers } from './config.ts';
import { autoCompactionPolicy } from './raft/kv-config.ts';

const resolve = (flags: Record<string, string>) =>
  finalizeNodeConfig(resolveConfig(nodeConfigSchema, { flags, env: {}, file: {} }));

const rejects = (flags: Record<string, string>, field: string, pattern: RegExp) =>
  assert.throws(
    () => resolve(flags),
    (e: unknown) => e instanceof ConfigError && e.field === field && pattern.test(e.message),
  );

describe('node config', () => {
  it('has usable defaults for a single node', () => {
    const config = resolve({});
    assert.equal(config.id, 'n1');
    assert.equal(config.dataDir, '.weft/n1');
    assert.deepEqual(config.peers, []);
    assert.notEqual(config.peerPort, config.httpPort);
  });

  it('parses --peers, IPv6 included', () => {
    assert.deepEqual(parsePeers('a=127.0.0.1:4001, b=[::1]:4002,c=node-c.weft.svc:4003', 'peers'), [
      { id: 'a', address: '127.0.0.1:4001' },
      { id: 'b', address: '[::1]:4002' },
      { id: 'c', address: 'node-c.weft.svc:4003' },
    ]);
  });

  it('rejects duplicate ids, shared addresses, and malformed entries', () => {
    rejects({ peers: 'a=h:1,a=h:2' }, 'peers', /duplicate peer id a/);
    rejects({ peers: 'a=h:1,b=h:1' }, 'peers', /share the address h:1/);
    rejects({ peers: 'a=h' }, 'peers', /not id=host:port/);
    rejects({ peers: 'a=h:99999' }, 'peers', /out of range/);
    rejects({ peers: 'a b=h:1' }, 'peers', /not valid/);
  });

  it('takes its peer port from its own --peers entry when none is given', () => {
    const config = resolve({ id: 'b', peers: 'a=127.0.0.1:5001,b=127.0.0.1:5002' });
    assert.equal(config.peerPort, 5002);
    assert.deepEqual(otherPeers(config), [{ id: 'a', address: '127.0.0.1:5001' }]);
  });

  it('rejects a --peer-port that disagrees with its own --peers entry', () => {
    rejects({ id: 'b', 'peer-port': '6000', peers: 'b=127.0.0.1:5002' }, 'peers', /make them agree/);
  });

  it('rejects the same port for HTTP and peers', () => {
    rejects({ 'peer-port': '7000', 'http-port': '7000' }, 'http-port', /its own port/);
  });

  it('reads --auto-compaction-retention as etcd does: hours or a duration, or revisions in revision mode; 0 is off', () => {
    const policy = (flags: Record<string, string>) => autoCompactionPolicy(resolve(flags));
    assert.equal(policy({}), undefined);
    assert.deepEqual(policy({ 'auto-compaction-retention': '1' }), { mode: 'periodic', retentionMs: 3_600_000 });
    assert.deepEqual(policy({ 'auto-compaction-retention': '0.5' }), { mode: 'periodic', retentionMs: 1_800_000 });
    assert.deepEqual(policy({ 'auto-compaction-retention': '30s' }), { mode: 'periodic', retentionMs: 30_000 });
    assert.deepEqual(policy({ 'auto-compaction-retention': '10m' }), { mode: 'periodic', retentionMs: 600_000 });
    assert.deepEqual(policy({ 'auto-compaction-mode': 'revision', 'auto-compaction-retention': '1000' }), {
      mode: 'revision',
      retention: 1000,
    });
    rejects({ 'auto-compaction-retention': '1 hour' }, 'auto-compaction-retention', /not a retention period/);
    rejects({ 'auto-compaction-retention': '500ms' }, 'auto-compaction-retention', /at least 1s/);
    rejects(
      { 'auto-compaction-mode': 'revision', 'auto-compaction-retention': '1h' },
      'auto-compaction-retention',
      /not a number of revisions/,
    );
    rejects({ 'auto-compaction-mode': 'weekly' }, 'auto-compaction-mode', /periodic/);
  });
});
