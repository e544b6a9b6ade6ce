import { BinaryReader, BinaryWriter, packCopies } from '../../core/binary.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';
import type { NodeId } from '../../raft/types.ts';
import { raceWithDeadline } from '../../transport/deadline.ts';
import type { RequestOptions } from '../../transport/transport.ts';

/** Where forwarded proposals go, and how. */
export interface ForwardRoute {
  /** The leader as this member knows it: itself, another member, or '' while there is none. */
  leader(): NodeId | '';
  readonly self: NodeId;
  address(member: NodeId): string | undefined;
  /** One one-way message to the leader; false when it could not be queued. */
  send(address: string, payload: Uint8Array): boolean;
  /** Append commands to the log as leader, with no waiter (their applies settle the calls); false if not leader now. */
  proposeHere(commands: readonly Uint8Array[]): boolean;
}

interface Pending {
  readonly data: Uint8Array;
  readonly settled: Promise<ApplyResult>;
  resolve(result: ApplyResult): void;
  reject(error: Error): void;
  /** The leader it was last sent to ('' when not sent yet) and when. */
  sentTo: NodeId | '';
  sentAt: number;
}

/** A message to one leader carries at most this many bytes of commands; more go in the next. */
const maxBatchBytes = 1024 * 1024;
/** A proposal whose apply has not been seen this long after it was sent to the same leader is sent again. */
export const resendAfterMs = 1_000;

/**
 * A follower's writes, sent to the leader the way etcd does it: as one-way
 * messages on the peer stream, many per message, with no reply. Every member
 * applies every entry to the same deterministic store, so the follower learns
 * the outcome of its write from its own apply, found by the request id the
 * command carries. A proposal can be lost (the leader died or was deposed
 * before appending it): it is sent again to the next leader, or after
 * `resendAfterMs`; the store applies a request id at most once, so a copy
 * that does land twice changes nothing.
 */
export class ProposalForwarder {
  private readonly pending = new Map<number, Pending>();
  private flushScheduled = false;
  private closed: Error | undefined;

  constructor(private readonly route: ForwardRoute) {}

  /** Forward a command; resolves with its result once this member has applied it. */
  forward(requestId: number, data: Uint8Array, options: RequestOptions): Promise<ApplyResult> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    let entry = this.pending.get(requestId);
    if (entry === undefined) {
      let resolve!: (result: ApplyResult) => void;
      let reject!: (error: Error) => void;
      const settled = new Promise<ApplyResult>((res, rej) => ((resolve = res), (reject = rej)));
      entry = { data, settled, resolve, reject, sentTo: '', sentAt: 0 };
      this.pending.set(requestId, entry);
      this.scheduleFlush();
    }
    const waiting = entry;
    return raceWithDeadline(entry.settled, options, 'forwarded write').catch((error: unknown) => {
      // The caller gave up: stop resending (a copy already sent may still apply).
      if (this.pending.get(requestId) === waiting) this.pending.delete(requestId);
      throw error;
    });
  }

  /** Settle the forwarded calls whose commands were just applied here. */
  onApplied(results: readonly ApplyResult[]): void {
    if (this.pending.size === 0) return;
    for (const result of results) {
      const entry = this.pending.get(result.requestId);
      if (entry === undefined) continue;
      this.pending.delete(result.requestId);
      entry.resolve(result);
    }
  }

  /** Forwarded writes not yet known to be applied. */
  get waiting(): number {
    return this.pending.size;
  }

  /** A new leader (or none): what the old one may have lost goes to the new one. */
  onLeaderChange(): void {
    for (const entry of this.pending.values()) entry.sentTo = '';
    this.scheduleFlush();
  }

  /** Called periodically: resend what has waited too long, and what could not be sent before. */
  sweep(now = performance.now()): void {
    let due = false;
    for (const entry of this.pending.values()) {
      if (entry.sentTo === '' || now - entry.sentAt >= resendAfterMs) {
        entry.sentTo = '';
        due = true;
      }
    }
    if (due) this.flush(now);
  }

  close(error: Error): void {
    this.closed = error;
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything forwarded in this turn of the event loop leaves in one message.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush(performance.now());
    });
  }

  private flush(now: number): void {
    if (this.closed !== undefined) return;
    const leader = this.route.leader();
    if (leader === '') return;
    const unsent = [...this.pending.values()].filter((entry) => entry.sentTo === '');
    if (unsent.length === 0) return;
    if (leader === this.route.self) {
      if (!this.route.proposeHere(unsent.map((entry) => entry.data))) return;
      for (const entry of unsent) [entry.sentTo, entry.sentAt] = [leader, now];
      return;
    }
    const address = this.route.address(leader);
    if (address === undefined) return;
    for (const batch of batches(unsent)) {
      if (!this.route.send(address, encodeProposals(batch.map((entry) => entry.data)))) return;
      for (const entry of batch) [entry.sentTo, entry.sentAt] = [leader, now];
    }
  }
}

function batches(entries: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && bytes + entry.data.length > maxBatchBytes) {
      out.push(current);
      [current, bytes] = [[], 0];
    }
    current.push(entry);
    bytes += entry.data.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function encodeProposals(commands: readonly Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter(16 + commands.reduce((sum, c) => sum + c.length + 5, 0)).uvarint(commands.length);
  for (const command of commands) writer.bytes(command);
  return writer.finish();
}

/** Throws DECODE_FAILED on a malformed message. */
export function decodeProposals(payload: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(payload, 'forwarded proposals');
  const count = reader.uvarint();
  if (count > payload.length) reader.fail(`${count} commands in ${payload.length} bytes`);
  // Copied out of the message into shared buffers: they become log entries (see packCopies).
  const commands = Array.from({ length: count }, () => reader.bytesView());
  reader.end();
  return packCopies(commands);
}
