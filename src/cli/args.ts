import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { flagName, type Schema } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';

export interface ParsedArgs {
  /** Flag values by flag name; only string flags of the schema and extras. */
  readonly flags: Record<string, string | undefined>;
  readonly help: boolean;
}

/**
 * Strict flag parsing from a schema: every schema field becomes `--kebab-name
 * <value>`. Unknown flags and stray arguments are ConfigErrors naming them.
 */
export function parseFlags<C>(argv: readonly string[], schema: Schema<C>, extra: readonly string[] = []): ParsedArgs {
  const names = [...Object.keys(schema).map(flagName), ...extra];
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const name of names) options[name] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw flagError(error);
  }
  const flags: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = parsed.values[name];
    flags[name] = typeof value === 'string' ? value : undefined;
  }
  return { flags, help: parsed.values['help'] === true };
}

function flagError(error: unknown): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message);
  if (unknown?.[1] !== undefined) {
    return new ConfigError(
      unknown[1].replace(/^-+/, ''),
      `unknown flag ${unknown[1]}; run with --help to see the flags`,
    );
  }
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional?.[1] !== undefined) {
    return new ConfigError(positional[1], 'unexpected argument; flags take the form --name value');
  }
  const missing = /Option '(-{1,2}[^ ]+?)(?: <value>)?' argument missing/.exec(message);
  if (missing?.[1] !== undefined) {
    const name = missing[1].replace(/^-+/, '').replace(/^[a-z], --/, '');
    return new ConfigError(name, `${missing[1]} needs a value`);
  }
  return new ConfigError('arguments', message);
}

/** Read a YAML or JSON config file (YAML is a superset of JSON). */
export async function readConfigFile(path: string | undefined): Promise<Record<string, unknown>> {
  if (path === undefined) return {};
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('config', `cannot read ${path} (${code}); check the path given to --config`);
  }
  let data: unknown;
  try {
    data = parseYaml(source);
  } catch (error) {
    throw new ConfigError('config', `${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('config', `${path} must hold a mapping of flag names to values`);
  }
  return data as Record<string, unknown>;
}

/** Environment variables as a plain record (process.env with undefined removed). */
export function environment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
