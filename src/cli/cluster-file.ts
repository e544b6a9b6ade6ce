import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `weft up` writes the endpoints of the cluster it started to
 * <data-dir>/cluster.json, so `weft status` (and later `weft kv`) find it
 * without flags.
 */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly peerAddress: string;
  readonly httpUrl: string;
  readonly dataDir: string;
  /** The node's etcd-compatible gRPC endpoint (host:port), when it differs from peerAddress (--client-port). */
  readonly clientUrl?: string;
}

const fileName = 'cluster.json';

export async function writeClusterFile(dataDir: string, nodes: readonly ClusterNodeInfo[]): Promise<void> {
  await writeFile(join(dataDir, fileName), `${JSON.stringify({ nodes }, null, 2)}\n`);
}

export async function readClusterFile(dataDir: string): Promise<ClusterNodeInfo[] | undefined> {
  try {
    const data = JSON.parse(await readFile(join(dataDir, fileName), 'utf8')) as { nodes?: ClusterNodeInfo[] };
    return Array.isArray(data.nodes) ? data.nodes : undefined;
  } catch {
    return undefined;
  }
}
