import { WeftError } from '../core/errors.ts';
import type { KeyValue } from '../kv/types.ts';
import type { ReadConsistency } from '../node/kv-service.ts';

/**
 * How the JSON API reads keys and values from URLs and bodies and writes
 * them into responses. Keys and values are UTF-8 text by default;
 * `?encoding=base64` carries any bytes. Queries are decoded here from the
 * raw URL, not by the framework, so an invalid escape or invalid UTF-8 is a
 * clear 400 instead of being silently replaced.
 */
export type FieldEncoding = 'text' | 'base64';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const base64Pattern = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*)$/;

function invalid(message: string): WeftError {
  return new WeftError('INVALID_REQUEST', message);
}

/** A URL component as bytes: %XX escapes decoded; in a query, '+' is a space. */
export function percentDecode(component: string, plusIsSpace: boolean): Uint8Array {
  const text = plusIsSpace ? component.replaceAll('+', ' ') : component;
  const chunks = text.split(/(%[0-9A-Fa-f]{2})/).map((part, i) => {
    // split() puts the captured escapes at odd positions.
    if (i % 2 === 1) return Uint8Array.of(Number.parseInt(part.slice(1), 16));
    if (part.includes('%')) throw invalid(`malformed %-escape near "${part}" in the URL`);
    return Buffer.from(part, 'utf8');
  });
  return new Uint8Array(Buffer.concat(chunks));
}

/** Bytes given as text in `encoding`: UTF-8 text must be valid UTF-8; base64 must be base64. */
export function fieldBytes(bytes: Uint8Array, encoding: FieldEncoding, what: string): Uint8Array {
  if (encoding === 'text') {
    textOf(bytes, what, 'send it with ?encoding=base64');
    return bytes;
  }
  const text = textOf(bytes, what, 'it must be base64');
  if (!base64Pattern.test(text)) throw invalid(`${what} is not base64 (?encoding=base64)`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Bytes shown in `encoding`; a value that is not UTF-8 cannot be shown as text. */
export function fieldText(bytes: Uint8Array, encoding: FieldEncoding, what: string): string {
  if (encoding === 'base64') return Buffer.from(bytes).toString('base64');
  return textOf(bytes, what, 'read it with ?encoding=base64');
}

function textOf(bytes: Uint8Array, what: string, advice: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid(`${what} is not valid UTF-8 text; ${advice}`);
  }
}

/** The query parameters of a request, checked against the names a route takes. */
export class QueryParams {
  private readonly raw = new Map<string, string>();

  constructor(url: string, allowed: readonly string[]) {
    const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
    for (const pair of query.split('&').filter((p) => p !== '')) {
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      if (!allowed.includes(name)) {
        throw invalid(`unknown query parameter "${name}"; this route takes ${allowed.join(', ') || 'none'}`);
      }
      if (this.raw.has(name)) throw invalid(`query parameter "${name}" is given twice`);
      this.raw.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.raw.has(name);
  }

  bytes(name: string, encoding: FieldEncoding): Uint8Array | undefined {
    const value = this.raw.get(name);
    return value === undefined
      ? undefined
      : fieldBytes(percentDecode(value, true), encoding, `query parameter "${name}"`);
  }

  text(name: string): string | undefined {
    const value = this.raw.get(name);
    return value === undefined ? undefined : fieldText(percentDecode(value, true), 'text', `query parameter "${name}"`);
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.text(name);
    if (value === undefined) return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      throw invalid(`${name}=${value} is not one of ${choices.join(', ')}`);
    }
    return value as T;
  }

  /** A non-negative integer (0 when absent). */
  count(name: string): number {
    const value = this.text(name);
    if (value === undefined) return 0;
    const number = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(number)) {
      throw invalid(`${name}=${value} is not a non-negative integer`);
    }
    return number;
  }

  encoding(): FieldEncoding {
    return this.choice('encoding', ['text', 'base64'], 'text');
  }

  consistency(): ReadConsistency {
    return this.choice('consistency', ['linearizable', 'serializable'], 'linearizable');
  }

  flag(name: string): boolean {
    return this.choice(name, ['true', 'false'], 'false') === 'true';
  }
}

/** A key-value pair as the JSON API shows it. */
export interface KvJson {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
}

export function kvJson(kv: KeyValue, encoding: FieldEncoding): KvJson {
  return {
    key: fieldText(kv.key, encoding, 'a key'),
    value: fieldText(kv.value, encoding, `the value of a key`),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}
