import { createHash } from 'node:crypto';
import type { Id, IdSpace } from '../../koorde/id-space.ts';

/**
 * Where a key or a node lives on the circle: the top b bits of the SHA-256
 * of its bytes. A node hashes its advertised peer address, so its id is the
 * same after a restart; the web cache hashes URLs the same way.
 */
export function idOfBytes(space: IdSpace, bytes: string | Uint8Array): Id {
  const digest = createHash('sha256').update(bytes).digest();
  const top = BigInt(`0x${digest.toString('hex')}`);
  return top >> BigInt(256 - space.bits);
}
