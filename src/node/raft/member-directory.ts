import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeId } from '../../raft/types.ts';
import type { PeerAddress } from '../../transport/transport.ts';
import { writeFileAtomically } from '../../storage/fs-sync.ts';

/**
 * Where each member's peer transport is. Raft knows members only by id; the
 * addresses come from --peers (the founding members, or the members a joiner
 * contacts), from membership changes (an added member's address travels in
 * the change's context), and from traffic (a member that talks to us says
 * where it is). Kept in <data-dir>/members.json so a restart knows them.
 */
export class MemberDirectory {
  private readonly addresses = new Map<NodeId, PeerAddress>();
  private dirty = false;

  private constructor(private readonly path: string) {}

  static async open(dataDir: string, seed: readonly { id: NodeId; address: PeerAddress }[]): Promise<MemberDirectory> {
    const directory = new MemberDirectory(join(dataDir, 'members.json'));
    const saved = await readFile(directory.path, 'utf8').then(
      (text) => JSON.parse(text) as Record<string, string>,
      () => ({}) as Record<string, string>,
    );
    for (const [id, address] of Object.entries(saved)) directory.addresses.set(id, address);
    // Flags win over what was saved: an operator may have moved a member.
    for (const peer of seed) directory.set(peer.id, peer.address);
    await directory.flush();
    return directory;
  }

  address(id: NodeId): PeerAddress | undefined {
    return this.addresses.get(id);
  }

  set(id: NodeId, address: PeerAddress): void {
    if (address === '' || this.addresses.get(id) === address) return;
    this.addresses.set(id, address);
    this.dirty = true;
  }

  remove(id: NodeId): void {
    if (this.addresses.delete(id)) this.dirty = true;
  }

  /** The member at `address`, if known (for transport hints, which name addresses). */
  idAt(address: PeerAddress): NodeId | undefined {
    for (const [id, known] of this.addresses) if (known === address) return id;
    return undefined;
  }

  entries(): [NodeId, PeerAddress][] {
    return [...this.addresses];
  }

  /** Write changes, atomically (temp file + rename + directory fsync). */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const text = `${JSON.stringify(Object.fromEntries(this.addresses), null, 2)}\n`;
    await writeFileAtomically(this.path, new TextEncoder().encode(text));
  }
}
