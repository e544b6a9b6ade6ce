import { freshnessOf, type Freshness, type FreshnessOptions, type HeaderMap } from '../../cache/freshness.ts';
import type { Variant } from '../../cache/variant-store.ts';

/** A response as the store keeps it: what was received, plus what is sent on reuse. */
export interface StoredResponse extends Variant {
  readonly status: number;
  /** End-to-end fields as received (validators, Cache-Control, ...). */
  readonly headers: HeaderMap;
  /** The fields sent to clients: without Age (recomputed), Content-Length (the server sets it) and Set-Cookie. */
  readonly served: HeaderMap;
  readonly body: Buffer;
  readonly freshness: Freshness;
}

/** A response as received, before the store adds what it sends on reuse. */
export interface ResponseParts {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Buffer;
  readonly varyFields: readonly string[];
  readonly varyKey: string;
}

/** Fields never sent from the store: recomputed per answer, or never shared. */
const notServed = new Set(['age', 'content-length', 'set-cookie']);
/** Rough cost of the bookkeeping around one stored response, so tiny bodies are not free. */
const overheadBytes = 256;

export function storedResponse(init: ResponseParts, freshness: Freshness): StoredResponse {
  const served: Record<string, string> = {};
  let headerBytes = 0;
  for (const [name, value] of Object.entries(init.headers)) {
    headerBytes += name.length + value.length + 4;
    if (!notServed.has(name)) served[name] = value;
  }
  return {
    ...init,
    served: Object.freeze(served),
    freshness,
    bytes: init.body.length + headerBytes + init.varyKey.length + overheadBytes,
  };
}

export function receivedResponse(
  init: ResponseParts,
  timing: { readonly requestTimeMs: number; readonly responseTimeMs: number },
  options: FreshnessOptions,
): StoredResponse {
  return storedResponse(init, freshnessOf(init.status, init.headers, timing, options));
}
