import { WeftError } from '../../core/errors.ts';
import { nodeIdHint, nodeIdPattern } from '../../core/ids.ts';
import type { NodeId } from '../../raft/types.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';
import type { MemberDirectory } from './member-directory.ts';

/** What a member says of itself: etcd's published member attributes (name, client URLs). */
export interface Announcement {
  readonly id: NodeId;
  readonly clientUrl: string;
}

/** The peer method: the caller's announcement in, the callee's out. */
const announceMethod = 'kv.announce';
/** How often a member looks for members it has not told yet (new ones, or ones that were down). */
const announceRoundMs = 1_000;
const requestTimeoutMs = 1_000;
const maxUrlLength = 512;

/**
 * Members learn where each other's clients connect. A member's client port
 * is its own flag (--client-port), which no other member knows, so every
 * member tells every other one at start, and the answer carries the other's;
 * a member added later, or one that was down, is told when it answers. What
 * is learnt is kept in the member directory (members.json), so the member
 * list shows every client URL after a restart too. Without this, a member
 * listed the others' peer URLs as their client URLs, where etcd clients
 * (`etcdctl endpoint health --cluster`, a client syncing its endpoints)
 * found no etcd API.
 */
export class ClientUrlExchange {
  /** Members that have this process's announcement (each answered one, or sent theirs and got ours back). */
  private readonly told = new Set<NodeId>();
  private timer: NodeJS.Timeout | undefined;
  private roundUnderWay = false;
  private closed = false;

  constructor(
    private readonly self: Announcement,
    private readonly deps: {
      readonly transport: PeerTransport;
      readonly directory: MemberDirectory;
      /** The members now (voters and learners). */
      readonly members: () => readonly NodeId[];
      readonly log: Logger;
    },
  ) {}

  serve(): void {
    this.deps.transport.handle(announceMethod, (payload) => {
      const caller = decodeAnnouncement(payload);
      this.learn(caller);
      this.told.add(caller.id);
      return encodeAnnouncement(this.self);
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.round(), announceRoundMs).unref();
    void this.round();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** Tell every member not told yet, at once; those that do not answer are asked again next round. */
  private async round(): Promise<void> {
    if (this.roundUnderWay || this.closed) return;
    const untold = this.deps.members().filter((id) => id !== this.self.id && !this.told.has(id));
    if (untold.length === 0) return;
    this.roundUnderWay = true;
    try {
      await Promise.all(untold.map((id) => this.tell(id)));
    } finally {
      this.roundUnderWay = false;
    }
  }

  private async tell(id: NodeId): Promise<void> {
    const address = this.deps.directory.address(id);
    if (address === undefined) return;
    let answer: Announcement;
    try {
      const payload = encodeAnnouncement(this.self);
      answer = decodeAnnouncement(
        await this.deps.transport.request(address, announceMethod, payload, { timeoutMs: requestTimeoutMs }),
      );
    } catch {
      return; // down, not serving yet, or an older weft without the method: next round
    }
    // Another member at that address now (the directory is behind): its answer is still true of it.
    this.learn(answer);
    if (answer.id === id) this.told.add(id);
  }

  private learn(member: Announcement): void {
    if (this.closed || member.id === this.self.id) return;
    this.deps.directory.setClientUrl(member.id, member.clientUrl);
    this.deps.directory.flush().catch((error: unknown) => {
      this.deps.log.warn(
        { err: error, member: member.id },
        'could not save a member client URL; it is asked again at restart',
      );
    });
  }
}

export function encodeAnnouncement(announcement: Announcement): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id: announcement.id, clientUrl: announcement.clientUrl }));
}

/** A peer's announcement, checked: anything else is refused with DECODE_FAILED and changes nothing. */
export function decodeAnnouncement(payload: Uint8Array): Announcement {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new WeftError('DECODE_FAILED', 'a member announcement must be UTF-8 JSON: {"id", "clientUrl"}');
  }
  const { id, clientUrl } = (value ?? {}) as { id?: unknown; clientUrl?: unknown };
  if (typeof id !== 'string' || !nodeIdPattern.test(id)) {
    throw new WeftError('DECODE_FAILED', `a member announcement needs "id", a node id (${nodeIdHint})`);
  }
  if (typeof clientUrl !== 'string' || clientUrl.length > maxUrlLength || !isHttpUrl(clientUrl)) {
    throw new WeftError(
      'DECODE_FAILED',
      `a member announcement needs "clientUrl": an http:// or https:// URL of at most ${maxUrlLength} characters`,
    );
  }
  return { id, clientUrl };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}
