import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { configDocs } from './config-docs.ts';

it('docs/config.md matches the config schema (regenerate with scripts/config-docs.ts)', () => {
  const committed = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  assert.equal(committed, configDocs());
});
