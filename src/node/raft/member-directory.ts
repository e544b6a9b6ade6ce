import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeId } from '../../raft/types.ts';
import type { PeerAddress } from '../../transport/transport.ts';
import { writeFileAtomically } from '../../storage/fs-sync.ts';

/** members.json: peer addresses by member, and the client URLs members announced (ClientUrlExchange). */
interface SavedDirectory {
  readonly peers?: Record<string, string>;
  readonly clientUrls?: Record<string, string>;
}

/**
 * Where each member's peer transport is, and where its clients reach it.
 * Raft knows members only by id; the addresses come from --peers (the
 * founding members, or the members a joiner contacts), from membership
 * changes (an added member's address travels in the change's context), and
 * from traffic (a member that talks to us says where it is). A client URL
 * comes only from the member itself (etcd's published attributes): until it
 * has said, the member counts as not started. Kept in
 * <data-dir>/members.json so a restart knows them.
 */
export class MemberDirectory {
  private readonly addresses = new Map<NodeId, PeerAddress>();
  private readonly clientUrls = new Map<NodeId, string>();
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async open(dataDir: string, seed: readonly { id: NodeId; address: PeerAddress }[]): Promise<MemberDirectory> {
    const directory = new MemberDirectory(join(dataDir, 'members.json'));
    const saved = await readFile(directory.path, 'utf8').then(
      (text) => JSON.parse(text) as SavedDirectory | Record<string, string>,
      () => ({}) as SavedDirectory,
    );
    // Before client URLs, the file was the peer map alone (its values strings, never objects).
    const { peers, clientUrls } =
      typeof saved.peers === 'object'
        ? (saved as SavedDirectory)
        : { peers: saved as Record<string, string>, clientUrls: {} };
    for (const [id, address] of Object.entries(peers ?? {})) directory.addresses.set(id, address);
    for (const [id, url] of Object.entries(clientUrls ?? {})) directory.clientUrls.set(id, url);
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
    const clientUrlKnown = this.clientUrls.delete(id);
    if (this.addresses.delete(id) || clientUrlKnown) this.dirty = true;
  }

  /** Where clients reach `id`, as it announced; undefined until it has. */
  clientUrl(id: NodeId): string | undefined {
    return this.clientUrls.get(id);
  }

  setClientUrl(id: NodeId, url: string): void {
    if (this.clientUrls.get(id) === url) return;
    this.clientUrls.set(id, url);
    this.dirty = true;
  }

  /** The member at `address`, if known (for transport hints, which name addresses). */
  idAt(address: PeerAddress): NodeId | undefined {
    for (const [id, known] of this.addresses) if (known === address) return id;
    return undefined;
  }

  entries(): [NodeId, PeerAddress][] {
    return [...this.addresses];
  }

  /**
   * Write changes, atomically (temp file + rename + directory fsync). Calls
   * are queued: two writes at once would share the temp file, and one could
   * rename the other's half-written bytes into place.
   */
  flush(): Promise<void> {
    const done = this.writing.then(() => this.write());
    this.writing = done.catch(() => undefined);
    return done;
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const saved: SavedDirectory = {
      peers: Object.fromEntries(this.addresses),
      clientUrls: Object.fromEntries(this.clientUrls),
    };
    const text = `${JSON.stringify(saved, null, 2)}\n`;
    try {
      await writeFileAtomically(this.path, new TextEncoder().encode(text));
    } catch (error) {
      this.dirty = true; // the next flush tries again
      throw error;
    }
  }
}
