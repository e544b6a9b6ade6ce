import { promises as dns, type SrvRecord } from 'node:dns';

export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

/**
 * Peers from a DNS SRV name, as a Kubernetes headless service or a Route53
 * zone publishes them: "target:port" for each record, lowest priority first,
 * heaviest weight first within a priority. A name that does not resolve
 * gives no peers (the caller retries), never an error.
 */
export async function srvPeers(name: string, resolve: SrvResolver = (n) => dns.resolveSrv(n)): Promise<string[]> {
  let records: SrvRecord[];
  try {
    records = await resolve(name);
  } catch {
    return [];
  }
  return [...records]
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((r) => `${r.name.replace(/\.$/, '')}:${r.port}`);
}
