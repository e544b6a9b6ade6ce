import { integer, text, type Schema } from '../../core/config-schema.ts';
import { ConfigError } from '../../core/errors.ts';
import { maxIdBits } from '../../koorde/id-space.ts';

/** The DHT member's settings, part of the node's config schema (docs/config.md). */
export interface DhtConfig {
  /** This member's id on the circle, as hex; '' derives it from the advertised peer address. */
  readonly dhtId: string;
  readonly dhtIdBits: number;
  readonly dhtDegree: number;
  readonly dhtSuccessors: number;
  readonly dhtStabilizeMs: number;
  readonly dhtRpcTimeoutMs: number;
  readonly dhtSrv: string;
  readonly dhtMaxItems: number;
  readonly dhtMaxValueBytes: number;
  readonly dhtSyncBatch: number;
}

export const dhtConfigSchema: Schema<DhtConfig> = {
  dhtId: {
    doc: "This node's DHT id in hex; by default a hash of its peer address, so it is the same after a restart",
    placeholder: '<hex>',
    parse: text({ pattern: /^(0x)?[0-9a-fA-F]{1,64}$/, hint: 'use up to 64 hex digits' }),
    default: '',
    defaultDoc: 'hash of host:peer-port',
  },
  dhtIdBits: {
    doc: 'b: bits of a DHT identifier (the circle has 2^b points)',
    placeholder: '<bits>',
    parse: integer(8, maxIdBits),
    default: 64,
  },
  dhtDegree: {
    doc: 'k: de Bruijn degree, a power of two; lookups take about log_k(n) hops',
    placeholder: '<k>',
    parse: powerOfTwo,
    default: 8,
  },
  dhtSuccessors: {
    doc: 'r: successors each member tracks; every key is stored on its owner and the next r-1',
    placeholder: '<r>',
    parse: integer(1, 32),
    default: 8,
  },
  dhtStabilizeMs: {
    doc: 'One DHT maintenance round: stabilize and check the predecessor; the window is fixed every 4 rounds',
    placeholder: '<ms>',
    parse: integer(20, 600_000, ' ms'),
    default: 500,
  },
  dhtRpcTimeoutMs: {
    doc: 'How long one DHT request to a peer may take before the peer counts as failed for it',
    placeholder: '<ms>',
    parse: integer(10, 60_000, ' ms'),
    default: 1_000,
  },
  dhtSrv: {
    doc: 'A DNS SRV name listing DHT peers (e.g. a Kubernetes headless service), used besides --peers',
    placeholder: '<name>',
    parse: text(),
    default: '',
    defaultDoc: 'none',
  },
  dhtMaxItems: {
    doc: 'Most DHT items (owned and replicas) this node keeps; a put beyond it is refused',
    placeholder: '<n>',
    parse: integer(1, 10_000_000),
    default: 100_000,
  },
  dhtMaxValueBytes: {
    doc: 'Largest DHT value accepted, in bytes',
    placeholder: '<bytes>',
    parse: integer(1, 8 * 1024 * 1024),
    default: 1024 * 1024,
  },
  dhtSyncBatch: {
    doc: 'Items offered to each successor per replication round (bounds re-replication traffic)',
    placeholder: '<n>',
    parse: integer(1, 100_000),
    default: 256,
  },
};

function powerOfTwo(raw: unknown, field: string): number {
  const value = integer(2, 256)(raw, field);
  if ((value & (value - 1)) !== 0) throw new ConfigError(field, `${value} is not a power of two; use 2, 4, 8, 16, ...`);
  return value;
}

/** Checks across DHT fields. */
export function checkDhtConfig(config: DhtConfig): void {
  if (config.dhtIdBits < Math.log2(config.dhtDegree)) {
    throw new ConfigError('dht-id-bits', `${config.dhtIdBits} bits cannot hold one base-${config.dhtDegree} digit`);
  }
  if (config.dhtId !== '' && BigInt(`0x${config.dhtId.replace(/^0x/i, '')}`) >> BigInt(config.dhtIdBits) !== 0n) {
    throw new ConfigError('dht-id', `${config.dhtId} does not fit in ${config.dhtIdBits} bits`);
  }
}
