import type { HeaderMap } from './freshness.ts';

/**
 * Vary (RFC 9111 §4.1): a stored response is reused only for requests whose
 * nominated header fields match the request that fetched it. Values are
 * compared after the normalization §4.1 allows (whitespace trimmed and
 * collapsed); field names are case-insensitive.
 */
export function varyFields(headers: HeaderMap): readonly string[] {
  const vary = headers['vary'];
  if (vary === undefined) return [];
  const names = vary
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== '');
  return [...new Set(names)].sort();
}

/** The secondary key of a request for the given Vary field names ('' when there are none). */
export function varyKey(fields: readonly string[], request: HeaderMap): string {
  if (fields.length === 0) return '';
  let key = '';
  for (const field of fields) {
    const value = request[field];
    key += `${field}:${value === undefined ? '\u0000' : value.trim().replace(/\s+/g, ' ')}\n`;
  }
  return key;
}
