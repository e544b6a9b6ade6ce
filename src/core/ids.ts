/**
 * etcd identifies members and clusters by uint64; weft names members with
 * readable ids ("n1"). The etcd-compatible API shows each member's id as a
 * stable 64-bit hash of its name (FNV-1a 64), and the cluster id as the hash
 * of its founding members' names, so the numbers never change for a member.
 */
const offset = 0xcbf29ce484222325n;
const prime = 0x100000001b3n;
const mask = (1n << 64n) - 1n;

export function fnv1a64(text: string): bigint {
  let hash = offset;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * prime) & mask;
  }
  return hash;
}

/** What a node id (--id, a member's name) may be: it names the node in --peers, paths and logs. */
export const nodeIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const nodeIdHint = 'use 1-63 letters, digits, "-" or "_", starting with a letter or digit';

export function memberIdOf(nodeId: string): bigint {
  return fnv1a64(`member:${nodeId}`);
}

export function clusterIdOf(foundingNodeIds: readonly string[]): bigint {
  return fnv1a64(`cluster:${[...foundingNodeIds].sort().join(',')}`);
}

/** etcdctl prints member ids as lowercase hex without leading zeros. */
export function hexId(id: bigint): string {
  return id.toString(16);
}
