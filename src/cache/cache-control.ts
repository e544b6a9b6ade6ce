/**
 * Cache-Control parsing (RFC 9111 §5.2). Directive names are
 * case-insensitive; values are tokens or quoted strings, and a quoted string
 * may hold commas (`no-cache="set-cookie, x-id"`). A directive that appears
 * twice with different values is ambiguous; §4.2.1 encourages treating such
 * freshness information as invalid, so its delta-seconds read as 0.
 */
export type Directives = ReadonlyMap<string, string | true>;

const conflicting = '\u0000conflict';

export const noDirectives: Directives = new Map();

export function parseCacheControl(header: string | undefined): Directives {
  if (header === undefined || header === '') return noDirectives;
  const directives = new Map<string, string | true>();
  for (const part of splitOutsideQuotes(header)) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    const value = eq < 0 ? true : unquote(part.slice(eq + 1).trim());
    const before = directives.get(name);
    directives.set(name, before === undefined || before === value ? value : conflicting);
  }
  return directives;
}

/**
 * A delta-seconds directive (RFC 9111 §1.2.2): undefined when absent, 0 when
 * it is not a non-negative integer or conflicts, and capped at 2^31 as the
 * RFC allows.
 */
export function deltaSeconds(directives: Directives, name: string): number | undefined {
  const value = directives.get(name);
  if (value === undefined) return undefined;
  if (value === true || !/^\d+$/.test(value)) return 0;
  return Math.min(Number(value), 2 ** 31);
}

function splitOutsideQuotes(header: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i += 1) {
    const c = header[i];
    if (c === '"' && header[i - 1] !== '\\') quoted = !quoted;
    else if (c === ',' && !quoted) {
      parts.push(header.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(header.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}
