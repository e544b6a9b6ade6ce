import { ConfigError } from './errors.ts';

/**
 * A tiny declarative config schema. One description per field drives the
 * command-line flag, the WEFT_* environment variable, the config-file key,
 * the --help text and docs/config.md, so they cannot drift apart.
 *
 * Precedence: default < config file < environment < flag.
 */
export interface Field<T> {
  /** One sentence for --help and the docs. */
  readonly doc: string;
  /** Shown in help, e.g. "<port>". */
  readonly placeholder: string;
  /** Parse a raw value (a string from a flag or env, anything from a file). Throws ConfigError. */
  readonly parse: (raw: unknown, field: string) => T;
  /** The default, or a function of the other resolved fields. */
  readonly default: T | ((resolved: Record<string, unknown>) => T);
  /** How the default reads in the docs when it is computed. */
  readonly defaultDoc?: string;
}

export type Schema<C> = { readonly [K in keyof C]: Field<C[K]> };

export type Source = 'default' | 'file' | 'env' | 'flag';

export interface Resolved<C> {
  readonly config: C;
  /** Where each field's value came from. */
  readonly sources: { readonly [K in keyof C]: Source };
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: string): string {
  return `WEFT_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}

export interface Inputs {
  /** Flag values keyed by flag name (kebab-case). */
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Parsed config file, keyed by flag name (kebab-case) or camelCase key. */
  readonly file: Readonly<Record<string, unknown>>;
}

export function resolveConfig<C>(schema: Schema<C>, inputs: Inputs): Resolved<C> {
  const keys = Object.keys(schema) as (keyof C & string)[];
  const known = new Set(keys.flatMap((key) => [key, flagName(key)]));
  for (const key of Object.keys(inputs.file)) {
    if (!known.has(key)) {
      throw new ConfigError(key, `unknown key in the config file; known keys: ${keys.map(flagName).join(', ')}`);
    }
  }
  const resolved: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const computed: (keyof C & string)[] = [];
  for (const key of keys) {
    const field = schema[key];
    const flag = flagName(key);
    const raw = pickRaw(inputs, key, flag);
    if (raw === undefined) {
      if (typeof field.default === 'function') computed.push(key);
      else resolved[key] = field.default;
      sources[key] = 'default';
      continue;
    }
    resolved[key] = field.parse(raw.value, flag);
    sources[key] = raw.source;
  }
  for (const key of computed) {
    const make = schema[key].default as (r: Record<string, unknown>) => unknown;
    resolved[key] = make(resolved);
  }
  return { config: resolved as C, sources: sources as Resolved<C>['sources'] };
}

function pickRaw(inputs: Inputs, key: string, flag: string): { value: unknown; source: Source } | undefined {
  const fromFlag = inputs.flags[flag];
  if (fromFlag !== undefined) return { value: fromFlag, source: 'flag' };
  const fromEnv = inputs.env[envName(key)];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: 'env' };
  const fromFile = inputs.file[flag] ?? inputs.file[key];
  if (fromFile !== undefined) return { value: fromFile, source: 'file' };
  return undefined;
}

/** Lines of help text: flag, env, default, doc. */
export function describeSchema<C>(schema: Schema<C>): string[] {
  return (Object.keys(schema) as (keyof C & string)[]).map((key) => {
    const field = schema[key];
    const flag = `--${flagName(key)} ${field.placeholder}`;
    return `  ${flag.padEnd(34)} ${field.doc} (default: ${defaultText(field)}; env ${envName(key)})`;
  });
}

export function defaultText<T>(field: Field<T>): string {
  if (field.defaultDoc !== undefined) return field.defaultDoc;
  if (typeof field.default === 'function') return '(computed)';
  const value = field.default;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

// ---- parsers -------------------------------------------------------------

export function text(options: { pattern?: RegExp; hint?: string } = {}): (raw: unknown, field: string) => string {
  return (raw, field) => {
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      throw new ConfigError(field, `expected text, got ${JSON.stringify(raw)}`);
    }
    const value = String(raw).trim();
    if (value === '') throw new ConfigError(field, 'must not be empty');
    if (options.pattern !== undefined && !options.pattern.test(value)) {
      throw new ConfigError(field, `${JSON.stringify(value)} is not valid: ${options.hint ?? options.pattern.source}`);
    }
    return value;
  };
}

export function integer(min: number, max: number, unit = ''): (raw: unknown, field: string) => number {
  return (raw, field) => {
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value)) {
      throw new ConfigError(field, `expected a whole number${unit}, got ${JSON.stringify(raw)}`);
    }
    if (value < min || value > max) {
      throw new ConfigError(field, `${value} is out of range; use a number from ${min} to ${max}${unit}`);
    }
    return value;
  };
}

export const port = (): ((raw: unknown, field: string) => number) => integer(1, 65535);

export function oneOf<T extends string>(choices: readonly T[]): (raw: unknown, field: string) => T {
  return (raw, field) => {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
    throw new ConfigError(field, `${JSON.stringify(raw)} is not one of ${choices.join(', ')}`);
  };
}
