import { ConfigError } from '../core/errors.ts';
import { readClusterFile } from './cluster-file.ts';

/**
 * The etcd-compatible gRPC endpoints `weft kv`, `weft member` and `weft
 * bench kv` talk to: --endpoints (or WEFT_ENDPOINTS) when given, else those
 * of the cluster `weft up` wrote to <data-dir>/cluster.json (--data-dir,
 * WEFT_DATA_DIR, or .weft; each node's clientUrl, or its peer address when
 * the node serves the API on its peer port).
 */
export async function kvEndpoints(
  flags: { readonly endpoints?: string | undefined; readonly 'data-dir'?: string | undefined },
  env: Record<string, string>,
): Promise<string[]> {
  const endpoints = flags.endpoints ?? env['WEFT_ENDPOINTS'];
  const dataDir = flags['data-dir'] ?? env['WEFT_DATA_DIR'] ?? '.weft';
  if (endpoints !== undefined) {
    const list = endpoints
      .split(',')
      .map((endpoint) => endpoint.trim())
      .filter((endpoint) => endpoint !== '');
    if (list.length === 0) throw new ConfigError('endpoints', 'give at least one host:port');
    return list;
  }
  const nodes = await readClusterFile(dataDir);
  if (nodes === undefined || nodes.length === 0) {
    throw new ConfigError(
      'endpoints',
      `no cluster.json under ${dataDir}; give --endpoints host:port,... or start a cluster with weft up`,
    );
  }
  return nodes.map((node) => node.clientUrl ?? node.peerAddress);
}
