import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Wal } from '../src/storage/wal.ts';
import { runWeft, withoutWeftEnv } from './helpers/weft-process.ts';

// `weft repair` as an operator meets it: the node's error names the command,
// the command truncates after the last good record and says what it dropped.
async function damagedDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-repair-'));
  const wal = await Wal.open({ dataDir: dir, segmentSizeBytes: 2048 });
  for (let index = 1; index <= 100; index += 1) {
    await wal.append({ entries: [{ term: 1, index, kind: 'normal', data: new Uint8Array(40).fill(index) }] });
  }
  await wal.close();
  const segments = (await readdir(join(dir, 'wal'))).sort();
  const victim = join(dir, 'wal', segments[1]!);
  const bytes = await readFile(victim);
  bytes[200] = bytes[200]! ^ 0xff;
  await writeFile(victim, bytes);
  return dir;
}

describe('weft repair', () => {
  it('refuses to run without --data-dir (exit 2)', async () => {
    const result = await runWeft(['repair'], { env: withoutWeftEnv() });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /weft repair: error: data-dir: is required/);
  });

  it('truncates a damaged WAL, reports the entries dropped, and leaves a WAL that opens', async () => {
    const dir = await damagedDataDir();
    try {
      await assert.rejects(Wal.open({ dataDir: dir }), new RegExp(`run: weft repair --data-dir ${dir}`));
      const result = await runWeft(['repair', '--data-dir', dir]);
      assert.equal(result.code, 0, result.stderr);
      const dropped = /dropped (\d+) entries/.exec(result.stdout);
      assert.ok(dropped !== null, result.stdout);
      const wal = await Wal.open({ dataDir: dir });
      assert.equal(wal.readAll().entries.length + Number(dropped[1]), 100);
      await wal.close();
      const again = await runWeft(['repair', '--data-dir', dir]);
      assert.match(again.stdout, /has no damage; nothing changed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
