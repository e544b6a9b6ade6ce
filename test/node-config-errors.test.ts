import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './helpers/ports.ts';
import { runWeft, withoutWeftEnv } from './helpers/weft-process.ts';

/**
 * Every unusable configuration ends `weft node` with status 2 and one line on
 * stderr that names the field and says what to do.
 */
const scratch = mkdtempSync(join(tmpdir(), 'weft-config-'));

let runs = 0;

async function expectConfigError(args: string[], field: string, advice: RegExp, env = withoutWeftEnv()) {
  runs += 1;
  const dataDir = args.includes('--data-dir') ? [] : ['--data-dir', join(scratch, `data-${runs}`)];
  const result = await runWeft(['node', ...dataDir, ...args], { env });
  assert.equal(result.code, 2, `exit status 2 expected; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${result.stderr}`);
  assert.match(lines[0] ?? '', new RegExp(`^weft node: error: ${field}: `));
  assert.match(lines[0] ?? '', advice);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('weft node refuses bad configuration with status 2', { concurrency: true }, () => {
  const blockers: Server[] = [];
  after(() => blockers.forEach((s) => s.close()));

  it('an unknown flag', () =>
    expectConfigError(['--colour', 'red'], 'colour', /unknown flag --colour; run with --help/));

  it('a port out of range', () => expectConfigError(['--http-port', '70000'], 'http-port', /from 1 to 65535/));

  it('a port that is not a number', () => expectConfigError(['--peer-port', 'http'], 'peer-port', /whole number/));

  it('a data dir that is not writable', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    return expectConfigError(['--data-dir', join(file, 'data')], 'data-dir', /not a writable directory.*--data-dir/);
  });

  it('a duplicate peer id', () =>
    expectConfigError(
      ['--peers', 'n1=127.0.0.1:4001,n2=127.0.0.1:4002,n2=127.0.0.1:4003'],
      'peers',
      /duplicate peer id n2/,
    ));

  it('a peer port already in use', async () => {
    const port = await freePort();
    blockers.push(await listen(port));
    const http = await freePort();
    await expectConfigError(
      ['--peer-port', String(port), '--http-port', String(http)],
      'peer-port',
      /already in use; choose another with --peer-port/,
    );
  });

  it('an HTTP port already in use', async () => {
    const port = await freePort();
    blockers.push(await listen(port));
    const peer = await freePort();
    await expectConfigError(
      ['--peer-port', String(peer), '--http-port', String(port)],
      'http-port',
      /already in use; choose another with --http-port/,
    );
  });

  it('a bad value from the environment names the field', () =>
    expectConfigError([], 'log-level', /not one of trace/, withoutWeftEnv({ WEFT_LOG_LEVEL: 'loud' })));

  it('a config file with an unknown key', () => {
    const file = join(scratch, 'bad.yaml');
    writeFileSync(file, 'id: n1\nflavour: mint\n');
    return expectConfigError(['--config', file], 'flavour', /unknown key in the config file/);
  });

  it('a config file that does not exist', () =>
    expectConfigError(['--config', join(scratch, 'missing.yaml')], 'config', /cannot read .*ENOENT/));
});
