import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sourceHash, weftBundle } from '../bin/bundle.js';
import { runWeft } from './helpers/weft-process.ts';

describe('the bundle bin/weft.js runs', () => {
  it('is rebuilt when a source changes, and not for a test file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bundle-'));
    mkdirSync(join(dir, 'kv'));
    writeFileSync(join(dir, 'kv', 'store.ts'), 'export const a = 1;\n');
    const first = sourceHash(dir);
    assert.equal(sourceHash(dir), first);

    writeFileSync(join(dir, 'kv', 'store.test.ts'), 'test code\n');
    assert.equal(sourceHash(dir), first, 'a test file is not in the bundle');

    writeFileSync(join(dir, 'kv', 'store.ts'), 'export const a = 2;\n');
    const edited = sourceHash(dir);
    assert.notEqual(edited, first);

    writeFileSync(join(dir, 'kv', 'extra.ts'), 'export const b = 1;\n');
    assert.notEqual(sourceHash(dir), edited);

    // The same sources elsewhere: the bundle refers to its sources' files, so it is another bundle.
    const copy = mkdtempSync(join(tmpdir(), 'weft-bundle-'));
    mkdirSync(join(copy, 'kv'));
    writeFileSync(join(copy, 'kv', 'store.ts'), 'export const a = 2;\n');
    writeFileSync(join(copy, 'kv', 'extra.ts'), 'export const b = 1;\n');
    assert.notEqual(sourceHash(copy), sourceHash(dir));
  });

  it('keeps each module finding its files next to its source', async () => {
    const file = await weftBundle();
    assert.equal(await weftBundle(), file, 'unchanged sources reuse the bundle');
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /import\.meta\.url/);
    const transport = pathToFileURL(join(import.meta.dirname, '..', 'src', 'transport', 'grpc-transport.ts')).href;
    assert.ok(text.includes(JSON.stringify(transport)), 'the transport finds peer.proto beside its source');
  });

  it('starts weft from the bundle, not through tsx', async () => {
    const run = await runWeft(['version']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.equal(run.stderr, '', 'weft fell back to tsx: the bundle could not be built');
  });
});
