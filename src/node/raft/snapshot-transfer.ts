import { BinaryReader, BinaryWriter } from '../../core/binary.ts';
import { describeError, WeftError } from '../../core/errors.ts';
import { decodeMessages, encodeMessages, readSnapshotMeta, writeSnapshotMeta } from '../../raft/message-codec.ts';
import type { SnapshotMessage } from '../../raft/messages.ts';
import type { NodeId, SnapshotMeta } from '../../raft/types.ts';
import type { SnapshotStore, SnapshotWriter } from '../../storage/snapshot-store.ts';
import type { PeerAddress, PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';

const chunkMethod = 'raft.snapshot.chunk';
const doneMethod = 'raft.snapshot.done';
/** One chunk may take this long (a slow disk on the far side), the whole transfer as long as it needs. */
const chunkTimeoutMs = 15_000;

interface Incoming {
  readonly key: string;
  readonly writer: SnapshotWriter;
  offset: number;
}

/**
 * Sends a snapshot to a follower that fell behind the leader's log, and
 * receives one. The leader sends a file at least as new as the snapshot
 * Raft names (made for it if need be, see RaftLoop.snapshotFileFor) and
 * streams its data in chunks (as the snapshot store reads them, at most
 * 1 MiB each, so it is never held whole in memory); the follower writes
 * them through its own snapshot store (temp file, checksum, fsync, rename)
 * and only then hands the `snap` message to Raft, which installs it in the
 * next Ready. Either way the outcome is reported to Raft (reportSnapshot),
 * as etcd's transport does.
 */
export class SnapshotTransfer {
  private readonly incoming = new Map<string, Incoming>();

  constructor(
    private readonly id: NodeId,
    private readonly transport: PeerTransport,
    private readonly snapshots: SnapshotStore,
    private readonly log: Logger,
    private readonly hooks: {
      /** The snapshot file to send for Raft's snapshot: that one or a newer one, made if need be. */
      snapshotFor(wanted: SnapshotMeta): Promise<SnapshotMeta>;
      delivered(message: SnapshotMessage): void;
      finished(to: NodeId, ok: boolean): void;
    },
  ) {}

  async send(message: SnapshotMessage, address: PeerAddress | undefined): Promise<void> {
    let meta = message.snapshot;
    try {
      if (address === undefined) throw new WeftError('PEER_UNREACHABLE', `no address known for ${message.to}`);
      meta = await this.hooks.snapshotFor(message.snapshot);
      const reader = await this.snapshots.open(meta);
      let offset = 0;
      for await (const chunk of reader.chunks()) {
        const request = new BinaryWriter(chunk.length + 64).string(this.id);
        writeSnapshotMeta(request, meta);
        request.uvarint(offset).bytes(chunk);
        await this.transport.request(address, chunkMethod, request.finish(), { timeoutMs: chunkTimeoutMs });
        offset += chunk.length;
      }
      const sent: SnapshotMessage = { ...message, snapshot: meta };
      await this.transport.request(address, doneMethod, encodeMessages([sent]), { timeoutMs: chunkTimeoutMs });
      this.log.info({ to: message.to, index: meta.index, bytes: offset }, 'sent a snapshot');
      this.hooks.finished(message.to, true);
    } catch (error) {
      this.log.warn({ to: message.to, index: meta.index, error: describeError(error) }, 'snapshot transfer failed');
      this.hooks.finished(message.to, false);
    }
  }

  serve(): void {
    this.transport.handle(chunkMethod, async (payload) => {
      const reader = new BinaryReader(payload, 'snapshot chunk');
      const from = reader.string();
      const meta = readSnapshotMeta(reader);
      const offset = reader.uvarint();
      await this.receiveChunk(from, meta, offset, reader.bytes());
      return new Uint8Array(0);
    });
    this.transport.handle(doneMethod, async (payload) => {
      const [message] = decodeMessages(payload);
      if (message?.type !== 'snap' || message.to !== this.id)
        throw new WeftError('BAD_REQUEST', 'not a snapshot for this member');
      const incoming = this.incoming.get(keyOf(message.from, message.snapshot));
      if (incoming === undefined) throw new WeftError('BAD_REQUEST', 'no snapshot data was received for this message');
      this.incoming.delete(incoming.key);
      await incoming.writer.commit();
      this.hooks.delivered(message);
      return new Uint8Array(0);
    });
  }

  private async receiveChunk(from: NodeId, meta: SnapshotMeta, offset: number, data: Uint8Array): Promise<void> {
    const key = keyOf(from, meta);
    let incoming = this.incoming.get(key);
    if (offset === 0) {
      // A new transfer from the start: drop anything half-received before.
      for (const stale of this.incoming.values()) await stale.writer.abort();
      this.incoming.clear();
      incoming = { key, writer: await this.snapshots.create(meta), offset: 0 };
      this.incoming.set(key, incoming);
    }
    if (incoming === undefined || incoming.offset !== offset) {
      throw new WeftError(
        'BAD_REQUEST',
        `snapshot chunk at ${offset} does not follow what was received; restart the transfer`,
      );
    }
    await incoming.writer.write(data);
    incoming.offset += data.length;
  }
}

function keyOf(from: NodeId, meta: SnapshotMeta): string {
  return `${from}:${meta.term}/${meta.index}`;
}
