import { join } from 'node:path';
import { ConfigError, isWeftError } from '../core/errors.ts';
import { nodeIdHint, nodeIdPattern } from '../core/ids.ts';
import { integer, oneOf, port, text, type Resolved, type Schema } from '../core/config-schema.ts';
import { cacheConfigSchema, checkCacheConfig, type CacheConfig } from './cache/cache-config.ts';
import { checkDhtConfig, dhtConfigSchema, type DhtConfig } from './dht/dht-config.ts';
import { checkKvConfig, kvConfigSchema, type KvConfig } from './raft/kv-config.ts';

/** A member of the cluster as given by --peers: "id=host:port". */
export interface PeerSpec {
  readonly id: string;
  readonly address: string;
}

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Everything `weft node` needs to start; docs/config.md lists it. */
export interface NodeConfig extends DhtConfig, KvConfig, CacheConfig {
  readonly id: string;
  readonly host: string;
  readonly peerPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly peers: readonly PeerSpec[];
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly pingIntervalMs: number;
}

const hostPattern = /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;
const hostHint = 'use a hostname, an IPv4 address or an IPv6 address';

export const nodeConfigSchema: Schema<NodeConfig> = {
  id: {
    doc: "This node's id, unique in the cluster",
    placeholder: '<id>',
    parse: text({ pattern: nodeIdPattern, hint: nodeIdHint }),
    default: 'n1',
  },
  host: {
    doc: 'Interface both servers bind to, and the host peers reach this node at',
    placeholder: '<host>',
    parse: text({ pattern: hostPattern, hint: hostHint }),
    default: '127.0.0.1',
  },
  peerPort: {
    doc: 'gRPC port for peer traffic (Raft, DHT, forwarding)',
    placeholder: '<port>',
    parse: port(),
    default: 4001,
  },
  httpPort: {
    doc: 'HTTP port for health, metrics, the JSON APIs and the dashboard',
    placeholder: '<port>',
    parse: port(),
    default: 8081,
  },
  dataDir: {
    doc: "Directory for this node's durable state; created when missing",
    placeholder: '<dir>',
    parse: text(),
    default: (resolved) => join('.weft', String(resolved['id'])),
    defaultDoc: '.weft/<id>',
  },
  peers: {
    doc: 'Cluster members as id=host:port,...; listing this node itself is accepted',
    placeholder: '<id=host:port,...>',
    parse: parsePeers,
    default: [],
  },
  logLevel: {
    doc: `Least severe log level written: ${logLevels.join(', ')}`,
    placeholder: '<level>',
    parse: oneOf(logLevels),
    default: 'info',
  },
  shutdownTimeoutMs: {
    doc: 'How long a graceful stop may take before the node exits anyway (status 1)',
    placeholder: '<ms>',
    parse: integer(100, 600_000, ' ms'),
    default: 10_000,
  },
  pingIntervalMs: {
    doc: 'How often each peer is pinged for /health',
    placeholder: '<ms>',
    parse: integer(50, 600_000, ' ms'),
    default: 1_000,
  },
  ...dhtConfigSchema,
  ...kvConfigSchema,
  ...cacheConfigSchema,
};

export function parsePeers(raw: unknown, field: string): PeerSpec[] {
  const items = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : undefined;
  if (items === undefined) throw new ConfigError(field, 'expected id=host:port,...');
  const peers: PeerSpec[] = [];
  for (const item of items.map((s) => s.trim()).filter((s) => s !== '')) {
    const match = /^([^=]+)=(.+):(\d+)$/.exec(item);
    if (match === null) {
      throw new ConfigError(field, `${JSON.stringify(item)} is not id=host:port`);
    }
    const [, id = '', host = '', portText = ''] = match;
    text({ pattern: nodeIdPattern, hint: nodeIdHint })(id, field);
    text({ pattern: hostPattern, hint: hostHint })(host, field);
    const peerPort = port()(portText, field);
    if (peers.some((p) => p.id === id)) {
      throw new ConfigError(field, `duplicate peer id ${id}; give every member a distinct id`);
    }
    const address = `${host}:${peerPort}`;
    const twin = peers.find((p) => p.address === address);
    if (twin !== undefined) {
      throw new ConfigError(field, `${id} and ${twin.id} share the address ${address}; each member needs its own`);
    }
    peers.push({ id, address });
  }
  return peers;
}

/**
 * Checks across fields. When this node is listed in --peers and no peer port
 * was given, its port comes from that entry, as etcd's --initial-cluster does.
 */
export function finalizeNodeConfig(resolved: Resolved<NodeConfig>): NodeConfig {
  let config = resolved.config;
  const self = config.peers.find((p) => p.id === config.id);
  if (self !== undefined) {
    const selfPort = Number(self.address.slice(self.address.lastIndexOf(':') + 1));
    if (resolved.sources.peerPort === 'default') {
      config = { ...config, peerPort: selfPort };
    } else if (selfPort !== config.peerPort) {
      throw new ConfigError(
        'peers',
        `${config.id} is listed at ${self.address} but --peer-port is ${config.peerPort}; make them agree`,
      );
    }
  }
  checkDhtConfig(config);
  checkKvConfig(config);
  checkCacheConfig(config);
  if (config.clientPort === config.peerPort || config.clientPort === config.httpPort) {
    throw new ConfigError(
      'client-port',
      `${config.clientPort} is taken by another server of this node; use 0 (the peer port) or a free port`,
    );
  }
  if (config.httpPort === config.peerPort) {
    throw new ConfigError('http-port', `${config.httpPort} is also the peer port; give the HTTP server its own port`);
  }
  return config;
}

/** The other members: everyone in --peers except this node. */
export function otherPeers(config: NodeConfig): PeerSpec[] {
  return config.peers.filter((p) => p.id !== config.id);
}

/**
 * Binds one of the node's servers with `listen`; a port already taken
 * (EADDRINUSE, or the transport's PORT_IN_USE) becomes a ConfigError that
 * names the flag and what to do.
 */
export async function listenOnPort<T>(
  field: 'peer-port' | 'http-port' | 'client-port',
  host: string,
  port: number,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' || isWeftError(error, 'PORT_IN_USE')) {
      throw new ConfigError(
        field,
        `port ${port} on ${host} is already in use; choose another with --${field} or stop the process using it`,
      );
    }
    throw error;
  }
}
