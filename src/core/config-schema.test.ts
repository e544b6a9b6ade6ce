import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { envName, flagName, integer, oneOf, resolveConfig, text, type Schema } from './config-schema.ts';
import { ConfigError } from './errors.ts';

interface Sample {
  readonly name: string;
  readonly size: number;
  readonly mode: 'a' | 'b';
  readonly label: string;
}

const schema: Schema<Sample> = {
  name: { doc: 'n', placeholder: '<n>', parse: text(), default: 'dflt' },
  size: { doc: 's', placeholder: '<s>', parse: integer(1, 10), default: 5 },
  mode: { doc: 'm', placeholder: '<m>', parse: oneOf(['a', 'b'] as const), default: 'a' },
  label: { doc: 'l', placeholder: '<l>', parse: text(), default: (r) => `label-${String(r['name'])}` },
};

const none = { flags: {}, env: {}, file: {} };

describe('config schema', () => {
  it('derives flag and env names from field keys', () => {
    assert.equal(flagName('httpBasePort'), 'http-base-port');
    assert.equal(envName('httpBasePort'), 'WEFT_HTTP_BASE_PORT');
  });

  it('uses defaults, and computes derived defaults from resolved fields', () => {
    const { config, sources } = resolveConfig(schema, { ...none, flags: { name: 'x' } });
    assert.deepEqual(config, { name: 'x', size: 5, mode: 'a', label: 'label-x' });
    assert.equal(sources.size, 'default');
    assert.equal(sources.name, 'flag');
  });

  it('precedence is default < file < env < flag', () => {
    const file = { name: 'file', size: 2, mode: 'b' };
    const env = { WEFT_NAME: 'env', WEFT_SIZE: '3' };
    const flags = { name: 'flag' };
    const { config, sources } = resolveConfig(schema, { flags, env, file });
    assert.equal(config.name, 'flag');
    assert.equal(config.size, 3);
    assert.equal(config.mode, 'b');
    assert.deepEqual([sources.name, sources.size, sources.mode], ['flag', 'env', 'file']);
  });

  it('accepts camelCase or kebab-case keys in the file and rejects unknown ones', () => {
    assert.equal(resolveConfig(schema, { ...none, file: { size: 7 } }).config.size, 7);
    assert.throws(
      () => resolveConfig(schema, { ...none, file: { colour: 'red' } }),
      (e: unknown) => e instanceof ConfigError && e.field === 'colour' && /unknown key/.test(e.message),
    );
  });

  it('rejects bad values with the field named and what to do', () => {
    assert.throws(
      () => resolveConfig(schema, { ...none, flags: { size: '11' } }),
      (e: unknown) => e instanceof ConfigError && e.field === 'size' && /from 1 to 10/.test(e.message),
    );
    assert.throws(
      () => resolveConfig(schema, { ...none, env: { WEFT_SIZE: '1.5' } }),
      (e: unknown) => e instanceof ConfigError && e.field === 'size' && /whole number/.test(e.message),
    );
    assert.throws(
      () => resolveConfig(schema, { ...none, flags: { mode: 'c' } }),
      (e: unknown) => e instanceof ConfigError && /one of a, b/.test(e.message),
    );
    assert.throws(
      () => resolveConfig(schema, { ...none, flags: { name: '  ' } }),
      (e: unknown) => e instanceof ConfigError && /must not be empty/.test(e.message),
    );
  });
});
