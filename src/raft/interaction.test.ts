import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCommand, parseScript, renderScript } from '../sim/raft/interaction/datadriven.ts';
import { InteractionEnv } from '../sim/raft/interaction/env.ts';

/**
 * Golden interaction scripts (testdata/*.txt), as etcd-io/raft has. To
 * update the expected output after a deliberate change, run
 *   WEFT_REWRITE=1 node --import tsx scripts/run-tests.ts src/raft/interaction
 * and read the diff line by line: only commit it if you understand what
 * caused every change.
 */
const dir = new URL('./testdata/', import.meta.url);
const rewrite = process.env['WEFT_REWRITE'] === '1';

describe('raft golden scripts', () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()) {
    it(file, () => {
      const path = new URL(file, dir);
      const cases = parseScript(readFileSync(path, 'utf8'));
      const env = new InteractionEnv();
      const outputs = cases.map((c) => env.run(parseCommand(c.command)));
      if (rewrite) {
        writeFileSync(path, renderScript(cases, outputs));
        return;
      }
      cases.forEach((c, i) => assert.equal(outputs[i], c.expected, `${file}:${c.line}: ${c.command}`));
    });
  }
});
