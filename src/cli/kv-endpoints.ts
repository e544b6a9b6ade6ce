import { ConfigError } from '../core/errors.ts';
import { readClusterFile } from './cluster-file.ts';

/**
 * The etcd-compatible gRPC endpoints `weft kv` and `weft bench kv` talk to:
 * --endpoints when given, else those of the cluster `weft up` wrote to
 * <data-dir>/cluster.json (each node's clientUrl, or its peer address when
 * the node serves the API on its peer port).
 */
export async function kvEndpoints(endpoints: string | undefined, dataDir: string): Promise<string[]> {
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
