import { assert, unreachable } from '../core/assert.ts';
import { NotLeaderError, WeftError } from '../core/errors.ts';
import type { Prng } from '../core/prng.ts';
import type { RaftConfig } from './config.ts';
import { applyConfChange, decodeConfChange, encodeConfChange, isMember, type ConfChange } from './conf-change.ts';
import { RaftLog } from './log.ts';
import { entriesBytes, entryOverheadBytes, isFromLeader, type Message, type VoteMessage } from './messages.ts';
import { noMutations, type Mutations } from './mutations.ts';
import { Progress } from './progress.ts';
import { hasQuorum, majorityCommitted, voteResult } from './quorum.ts';
import { ReadIndexQueue, type ReadState } from './read-only.ts';
import { rankSuccessors, RttEstimator, successorTimeoutTicks } from './successors.ts';
import type { ConfState, Entry, EntryKind, HardState, NodeId, SnapshotMeta } from './types.ts';

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** What a member starts from: its durable state, as the WAL and snapshot store return it. */
export interface RaftInit {
  readonly config: RaftConfig;
  readonly prng: Prng;
  readonly hardState: HardState;
  /** The newest snapshot (compaction point); index 0 with the bootstrap membership for a new cluster. */
  readonly snapshot: SnapshotMeta;
  /** Log entries after the snapshot. */
  readonly entries: readonly Entry[];
  /** Only the simulator sets this. */
  readonly mutations?: Mutations;
}

/** Where a proposal landed: it is committed when an entry with this index and term is applied. */
export interface Proposed {
  readonly term: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

/**
 * One Raft member as a pure state machine (the shape of etcd-io/raft): all
 * input arrives through step() (messages), tick() (time) and the proposal
 * and read calls; all output is data collected by RaftNode into a Ready.
 * The role decides how messages are handled; role changes go only through
 * the become* methods, which assert the legal transitions.
 */
export class Raft {
  readonly id: NodeId;
  term: number;
  vote: NodeId;
  leader: NodeId = '';
  role: Role = 'follower';
  readonly log: RaftLog;
  conf: ConfState;
  /** The newest snapshot this member can send to followers that fell behind the log. */
  snapshot: SnapshotMeta;
  /** A snapshot received from the leader, to be persisted and restored by the driver. */
  pendingSnapshot: SnapshotMeta | undefined;

  /** Outbox: messages and read results for the next Ready. */
  messages: Message[] = [];
  readStates: ReadState[] = [];

  private readonly config: RaftConfig;
  private readonly prng: Prng;
  private readonly mutations: Mutations;
  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = '';
  /** This campaign was started by TimeoutNow, so its vote requests carry `transfer`. */
  private campaignTransfer = false;
  /** Index of the last membership change a leader proposed; no other until it is applied. */
  private pendingConfIndex = 0;
  private readonly reads: ReadIndexQueue;
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  private readsBeforeCommit: { context: string; requester: NodeId }[] = [];
  /** S-Raft: the successor ranking, best first; the leader's own, or the last one heard from it. */
  private successors: readonly NodeId[] = [];
  /** The term in which `successors` was announced; a ranking from another term means nothing. */
  private successorsTerm = 0;
  /** S-Raft, leader: the commit index when it last ranked; a follower that has it since is caught up. */
  private committedAtRanking = 0;
  /**
   * The rank-0 successor last named (as leader) or heard of, in any term: a
   * refused vote from it may call for outrunning it, and the planted S-Raft
   * bugs favour it.
   */
  private lastRankZero: NodeId = '';
  /** The rank the current election timeout was drawn for (-1: a normal, unranked timeout). */
  private timeoutRank = -1;
  /** S-Raft: the leader whose connection the transport reported lost in this term; its messages are dropped. */
  private lostLeader: NodeId = '';
  /**
   * S-Raft: rank 0's pre-vote that came before we knew the leader was gone,
   * and that we ignored (we still heard the leader) or refused without
   * campaigning ourselves (our log is newer, but we had not yet missed the
   * leader long enough). It is answered again when our hint comes.
   */
  private pendingRankZeroPreVote: VoteMessage | undefined;
  /** S-Raft: round-trip times to each follower, reported by the driver. */
  private readonly rtt = new RttEstimator();

  constructor(init: RaftInit) {
    this.config = init.config;
    this.id = init.config.id;
    this.prng = init.prng;
    this.mutations = init.mutations ?? noMutations;
    this.term = init.hardState.term;
    this.vote = init.hardState.vote;
    this.snapshot = init.snapshot;
    this.conf = init.snapshot.conf;
    this.log = new RaftLog({
      compactedIndex: init.snapshot.index,
      compactedTerm: init.snapshot.term,
      entries: init.entries,
      committed: init.hardState.commit,
    });
    this.reads = new ReadIndexQueue(init.config.maxPendingReads);
    // Membership changes in the log take effect when applied; the driver
    // replays committed entries after a restart, so conf follows them there.
    this.resetElectionTimer();
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Voters may campaign; learners and removed members may not. */
  promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  // ---- time ---------------------------------------------------------------

  tick(): void {
    this.electionElapsed += 1;
    if (this.role === 'leader') {
      this.tickLeader();
      return;
    }
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.startElection();
      return;
    }
    if (this.role === 'candidate' || this.role === 'preCandidate') this.retryVoteRequests();
  }

  /**
   * Servers retry RPCs that get no answer (§5.1): every heartbeat interval a
   * candidate asks again the voters it has not heard from, so one lost
   * request does not cost a whole election timeout.
   */
  private retryVoteRequests(): void {
    this.heartbeatElapsed += 1;
    if (this.heartbeatElapsed < this.config.heartbeatTicks) return;
    this.heartbeatElapsed = 0;
    this.requestVotes(this.role === 'preCandidate' ? 'preVote' : 'vote', this.votes, this.campaignTransfer);
  }

  /** Campaign the configured way: through pre-vote when it is on. */
  startElection(): void {
    this.campaign(this.config.preVote ? 'preVote' : 'election');
  }

  private tickLeader(): void {
    this.heartbeatElapsed += 1;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, '');
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = '';
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.config.readOnly === 'safe' ? this.reads.lastContext() : '');
    }
  }

  /** Check-quorum: did a quorum of voters talk to us since the last round? Resets the marks. */
  private quorumActive(): boolean {
    const active = hasQuorum(this.conf.voters, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active;
  }

  // ---- role changes -------------------------------------------------------

  becomeFollower(term: number, leader: NodeId): void {
    this.failPendingReads();
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition: leader -> pre-candidate');
    // Pre-vote changes neither term nor vote: a failed pre-campaign leaves no trace (thesis §9.6).
    this.failPendingReads();
    this.votes = new Map();
    this.role = 'preCandidate';
    this.leader = '';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition: leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', `invalid transition: ${this.role} -> leader`);
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    for (const id of [...this.conf.voters, ...this.conf.learners]) this.addProgress(id);
    this.committedAtRanking = this.log.committed;
    // Commit an entry of our own term at once (§5.4.2, §8): it commits every
    // earlier entry, and ReadIndex and membership changes wait for it.
    const noop = this.appendEntries([{ kind: 'noop', data: new Uint8Array(0) }]);
    this.pendingConfIndex = noop.lastIndex;
    this.broadcastAppend();
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
      this.lostLeader = '';
    }
    this.leader = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetElectionTimer();
    this.leadTransferee = '';
    this.votes = new Map();
    this.progress = new Map();
    this.pendingConfIndex = 0;
  }

  private resetElectionTimer(): void {
    // S-Raft: while this term's ranking stands, every wait is drawn by rank.
    const rank = this.config.consensus === 's-raft' ? this.successorRank() : -1;
    if (rank >= 0) {
      this.timeoutRank = rank;
      this.randomizedElectionTimeout = successorTimeoutTicks(rank, this.config, this.prng);
      return;
    }
    this.timeoutRank = -1;
    const ticks = this.config.electionTicks;
    this.randomizedElectionTimeout = ticks + this.prng.int(0, ticks - 1);
  }

  private addProgress(id: NodeId): void {
    const pr = new Progress(this.log.lastIndex() + 1, this.config.maxInflightMsgs, this.config.maxInflightBytes);
    if (id === this.id) {
      pr.match = this.log.stableIndex;
      pr.becomeReplicate();
    }
    pr.recentActive = true;
    this.progress.set(id, pr);
  }

  // ---- elections (§5.2) ---------------------------------------------------

  /** Start a (pre-)campaign. 'transfer' skips pre-vote: the old leader asked us to take over. */
  campaign(kind: 'preVote' | 'election' | 'transfer'): void {
    if (!this.promotable() || this.role === 'leader') return;
    if (kind === 'preVote') this.becomePreCandidate();
    else this.becomeCandidate();
    this.campaignTransfer = kind === 'transfer';
    this.votes.set(this.id, true);
    if (this.tallyVotes(kind)) return;
    this.requestVotes(kind === 'preVote' ? 'preVote' : 'vote', this.votes, this.campaignTransfer);
  }

  /** Ask every voter not in `answered` for its (pre-)vote. */
  private requestVotes(type: 'preVote' | 'vote', answered: ReadonlyMap<NodeId, boolean>, transfer: boolean): void {
    const term = type === 'preVote' ? this.term + 1 : this.term;
    for (const to of this.conf.voters) {
      if (answered.has(to)) continue;
      this.send({
        type,
        from: this.id,
        to,
        term,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer,
        rank: this.config.consensus === 's-raft' ? this.successorRank() : -1,
      });
    }
  }

  /** Act on the votes so far; true when the campaign is decided. */
  private tallyVotes(kind: 'preVote' | 'election' | 'transfer'): boolean {
    const result = voteResult(this.conf.voters, this.votes);
    if (result === 'won') {
      if (kind === 'preVote') this.campaign('election');
      else this.becomeLeader();
      return true;
    }
    if (result === 'lost') {
      this.becomeFollower(this.term, '');
      return true;
    }
    return false;
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    // We may vote for m.from if we already did in this term, or have neither
    // voted nor seen a leader in it; a pre-vote for a later term is always
    // open (it binds us to nothing).
    const plantedRankZero = m.from === this.lastRankZero;
    const canVote =
      this.vote === m.from ||
      (this.vote === '' && this.leader === '') ||
      (m.type === 'preVote' && m.term > this.term) ||
      (this.mutations.sraftDoubleVote === true && plantedRankZero);
    const upToDate =
      this.mutations.voteIgnoresLog === true ||
      (this.mutations.sraftSkipLogCheck === true && plantedRankZero) ||
      this.log.isUpToDate(m.lastIndex, m.lastTerm);
    if (canVote && upToDate && !this.firstAmongRivals(m)) {
      // A granted pre-vote answers in the candidate's future term so it counts there.
      this.send({ type: responseType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
      return;
    }
    this.send({ type: responseType, from: this.id, to: m.from, term: this.term, reject: true });
    if (canVote && !upToDate) this.maybeOutrunSuccessor(m);
  }

  /**
   * S-Raft: we refused the rank-0 successor's pre-vote or vote because our
   * log is newer (the ranking is a heartbeat old). If we have lost the leader
   * too, we are the better candidate: campaign now rather than after our
   * rank's timeout. This only starts an election; the votes still decide.
   */
  private maybeOutrunSuccessor(m: VoteMessage): void {
    if (this.config.consensus !== 's-raft' || m.from !== this.lastRankZero) return;
    if (this.role !== 'follower' || !this.promotable()) return;
    // Evidence that the leader is gone: the transport said so, or we have
    // missed as many heartbeats as the successor that is campaigning, or the
    // successor's vote has moved us to a term without a leader. The last is
    // how a leader that stalled rather than died is deposed: its successor
    // won pre-votes while it was silent, and the leader's next entry then
    // reached the others but not the successor, whom their logs now refuse
    // (testdata/s-raft-deposed-by-lagging-successor.txt). Nobody else was
    // campaigning, so the group waited out a randomized election timeout.
    const leaderGone =
      (this.leader === '' && this.lostLeader !== '') ||
      this.electionElapsed >= this.config.promotionTicks ||
      (m.type === 'vote' && this.leader === '');
    if (leaderGone) {
      this.electionElapsed = 0;
      this.startElection();
    } else if (m.type === 'preVote') {
      // Rank 0 will not ask us again (we answered): without this, we would
      // wait out our own rank's timeout once our hint came, and in a group of
      // three nobody could win before (testdata/s-raft-refused-before-hint.txt).
      this.pendingRankZeroPreVote = m;
    }
  }

  // ---- the entry point ----------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.answerStaleTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    // Late messages from a leader whose connection was reported lost are
    // dropped (always safe: the network may lose them too); otherwise they
    // would make its successors follow a dead leader again.
    if (m.from === this.lostLeader && isFromLeader(m)) return;
    switch (this.role) {
      case 'follower':
        this.stepFollower(m);
        return;
      case 'preCandidate':
      case 'candidate':
        this.stepCandidate(m);
        return;
      case 'leader':
        this.stepLeader(m);
        return;
      default:
        unreachable(this.role, 'role');
    }
  }

  /** A message from a later term. Returns false when it is to be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      // Leader stickiness: while we hear from a leader, a disruptive
      // candidate (e.g. one rejoining after a partition) gets no vote.
      const inLease = this.config.checkQuorum && this.leader !== '' && this.electionElapsed < this.config.electionTicks;
      // S-Raft: the leader's rank-0 successor may be heard before the lease
      // ends (only it: that is what makes its takeover fast), by a follower
      // that has missed a heartbeat too. A leader, or a follower that still
      // hears the leader, refuses: then it is rank 0 that is slow (a starved
      // process, a bad link), and a healthy leader must not be deposed.
      const missedLeader = this.role !== 'leader' && this.electionElapsed >= this.config.promotionTicks - 1;
      if (inLease && !m.transfer && !(m.from === this.rankZero() && missedLeader)) {
        if (m.type === 'preVote' && m.from === this.rankZero() && this.role === 'follower') {
          this.pendingRankZeroPreVote = m;
        }
        return false;
      }
    }
    if (m.type === 'preVote') return true;
    // A granted pre-vote comes back in our future term; it does not move us there.
    if (m.type === 'preVoteResp' && !m.reject) return true;
    this.becomeFollower(m.term, isFromLeader(m) ? m.from : '');
    return true;
  }

  private answerStaleTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'app' || m.type === 'heartbeat')) {
      // A leader from an old term, cut off while we moved on: tell it our
      // term so it steps down, instead of leaving it leading alone forever.
      this.send({
        type: 'appResp',
        from: this.id,
        to: m.from,
        term: this.term,
        index: 0,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
      case 'heartbeat':
      case 'snap':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleFromLeader(m);
        return;
      case 'timeoutNow':
        this.campaign('transfer');
        return;
      case 'readIndexResp':
        this.readStates.push({ context: m.context, index: m.index });
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
      case 'heartbeat':
      case 'snap':
        // Someone won this term (§5.2): follow it.
        this.becomeFollower(m.term, m.from);
        this.handleFromLeader(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        const mine = (m.type === 'voteResp') === (this.role === 'candidate');
        if (!mine) return;
        this.votes.set(m.from, !m.reject);
        this.tallyVotes(this.role === 'candidate' ? 'election' : 'preVote');
        return;
      }
      default:
        return;
    }
  }

  // ---- follower side of replication ----------------------------------------

  private handleFromLeader(m: Message): void {
    if (m.type === 'app') this.handleAppend(m.index, m.logTerm, m.entries, m.commit, m.from);
    else if (m.type === 'heartbeat') this.handleHeartbeat(m.commit, m.context, m.successors, m.from);
    else if (m.type === 'snap') this.handleSnapshot(m.snapshot, m.from);
  }

  private handleAppend(
    prevIndex: number,
    prevTerm: number,
    entries: readonly Entry[],
    commit: number,
    from: NodeId,
  ): void {
    const reply = { type: 'appResp', from: this.id, to: from, term: this.term } as const;
    if (prevIndex < this.log.committed) {
      this.send({ ...reply, index: this.log.committed, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const lastNew = this.log.tryAppend(prevIndex, prevTerm, entries);
    if (lastNew !== undefined) {
      this.log.commitTo(Math.min(commit, lastNew));
      this.send({ ...reply, index: lastNew, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    const hint = this.log.conflictHint(Math.min(prevIndex, this.log.lastIndex()), prevTerm);
    this.send({ ...reply, index: prevIndex, reject: true, hintIndex: hint.index, hintTerm: hint.term });
  }

  private handleHeartbeat(commit: number, context: string, successors: readonly NodeId[], from: NodeId): void {
    // The leader sends min(our match, its commit), so this never passes our log's end.
    this.log.commitTo(Math.min(commit, this.log.lastIndex()));
    if (this.config.consensus === 's-raft') this.learnSuccessors(successors);
    this.send({ type: 'heartbeatResp', from: this.id, to: from, term: this.term, context });
  }

  private handleSnapshot(snapshot: SnapshotMeta, from: NodeId): void {
    const reply = {
      type: 'appResp',
      from: this.id,
      to: from,
      term: this.term,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    } as const;
    if (snapshot.index <= this.log.committed) {
      this.send({ ...reply, index: this.log.committed });
      return;
    }
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      // We already have the entries: just learn that they are committed.
      this.log.commitTo(snapshot.index);
      this.send({ ...reply, index: snapshot.index });
      return;
    }
    this.log.restore(snapshot.index, snapshot.term);
    this.conf = snapshot.conf;
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.send({ ...reply, index: snapshot.index });
  }

  // ---- leader -----------------------------------------------------------------

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    switch (m.type) {
      case 'appResp':
        if (pr === undefined) return;
        pr.recentActive = true;
        this.handleAppendResponse(m.from, pr, m.index, m.reject, m.hintIndex, m.hintTerm);
        return;
      case 'heartbeatResp':
        if (pr === undefined) return;
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
        // Behind after a heartbeat round: appends were lost (or the follower
        // restarted). The append, even empty, makes it reject and re-probe.
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context !== '') this.ackRead(m.context, m.from);
        return;
      case 'readIndex':
        this.serveRead(m.context, m.from);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(
    from: NodeId,
    pr: Progress,
    index: number,
    reject: boolean,
    hintIndex: number,
    hintTerm: number,
  ): void {
    if (reject) {
      // Skip over every entry of a conflicting term in one round trip.
      const probe = hintTerm > 0 ? this.log.conflictHint(hintIndex, hintTerm).index : hintIndex;
      if (pr.maybeDecrease(index, probe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(from);
      }
      return;
    }
    const wasPaused = pr.paused();
    if (!pr.maybeUpdate(index)) return;
    pr.inflights.freeUpTo(index);
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    }
    // A follower that was paused may not know the commit index yet: an
    // empty append tells it. Otherwise send only what is new.
    if (this.maybeCommit()) this.broadcastAppend();
    else this.sendAppend(from, wasPaused);
    if (from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(from);
  }

  /** Advance the commit index to what a majority has (§5.3), but only by an entry of this term (§5.4.2). */
  maybeCommit(): boolean {
    if (this.role !== 'leader') return false;
    const index = majorityCommitted(this.conf.voters, (id) =>
      id === this.id ? this.log.stableIndex : (this.progress.get(id)?.match ?? 0),
    );
    if (index <= this.log.committed) return false;
    if (this.log.term(index) !== this.term && this.mutations.commitOldTerm !== true) return false;
    const firstOfTerm = this.log.term(this.log.committed) !== this.term;
    this.log.commitTo(index);
    if (firstOfTerm) this.releaseReadsBeforeCommit();
    return true;
  }

  /**
   * Send `to` what it is missing: entries, or the snapshot if they are
   * compacted. With nothing new, an empty append still goes out when
   * `sendIfEmpty` (it carries the commit index, or probes).
   */
  sendAppend(to: NodeId, sendIfEmpty = true): void {
    const pr = this.progress.get(to);
    if (pr === undefined || to === this.id || pr.paused()) return;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.config.maxSizePerMsgBytes);
    if (prevTerm === undefined || entries === undefined) {
      this.sendSnapshot(to, pr);
      return;
    }
    if (entries.length === 0 && !sendIfEmpty) return;
    this.send({
      type: 'app',
      from: this.id,
      to,
      term: this.term,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    const last = entries.at(-1);
    if (pr.state === 'replicate' && last !== undefined) {
      pr.next = last.index + 1;
      pr.inflights.add(last.index, entriesBytes(entries));
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    // A follower we have not heard from may be down: do not stream a snapshot into the void.
    if (!pr.recentActive) return;
    assert(this.snapshot.index >= this.log.firstIndex() - 1, 'the snapshot covers every compacted entry');
    this.send({ type: 'snap', from: this.id, to, term: this.term, snapshot: this.snapshot });
    pr.becomeSnapshot(this.snapshot.index);
  }

  broadcastAppend(): void {
    for (const id of this.progress.keys()) this.sendAppend(id);
  }

  private broadcastHeartbeat(context: string): void {
    const successors = this.config.consensus === 's-raft' ? this.rankSuccessors() : [];
    for (const [to, pr] of this.progress) {
      if (to === this.id) continue;
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to, term: this.term, commit, context, successors });
    }
  }

  /** S-Raft: rank the other voters, refreshed every heartbeat round. */
  private rankSuccessors(): readonly NodeId[] {
    // The planted bug ranks by RTT alone, as the seed project did.
    const byRttAlone = this.mutations.sraftSkipLogCheck === true;
    const candidates = this.conf.voters
      .filter((id) => id !== this.id)
      .map((id) => {
        const pr = this.progress.get(id);
        const caughtUp = pr?.state === 'replicate' && pr.match >= this.committedAtRanking;
        return { id, caughtUp: byRttAlone || caughtUp, rttMs: this.rtt.get(id) };
      });
    const previous = byRttAlone || this.successorsTerm !== this.term ? [] : this.successors;
    this.successors = rankSuccessors(candidates, previous);
    this.successorsTerm = this.term;
    this.lastRankZero = this.successors[0] ?? '';
    this.committedAtRanking = this.log.committed;
    return this.successors;
  }

  /** A follower learns the ranking from its leader's heartbeat and sets its patience by its rank. */
  private learnSuccessors(successors: readonly NodeId[]): void {
    this.successors = successors;
    this.successorsTerm = this.term;
    this.lastRankZero = successors[0] ?? '';
    const rank = this.successorRank();
    if (rank !== this.timeoutRank) {
      this.timeoutRank = rank;
      this.randomizedElectionTimeout = successorTimeoutTicks(rank < 0 ? Infinity : rank, this.config, this.prng);
    }
  }

  /**
   * S-Raft: two successors whose hints came apart can pre-campaign at once.
   * Granting each other, both went on to the vote in the same term and split
   * it, and the next leader came a randomized timeout later (a traced
   * failover: 393 ms). Between rival pre-candidates with the same last entry,
   * only the first by the ranks they claim (then by id) gets the grant: an
   * order both sides compute alike, since each compares its own claim with
   * the one in the other's request. Only early in a pre-campaign round, so a
   * rival that cannot win holds nobody back for long.
   */
  private firstAmongRivals(m: VoteMessage): boolean {
    if (this.config.consensus !== 's-raft' || m.type !== 'preVote' || this.role !== 'preCandidate') return false;
    if (m.term !== this.term + 1 || this.electionElapsed >= this.config.promotionTicks) return false;
    if (m.lastTerm !== this.log.lastTerm() || m.lastIndex !== this.log.lastIndex()) return false;
    const order = (rank: number): number => (rank < 0 ? Infinity : rank);
    const [ours, theirs] = [order(this.successorRank()), order(m.rank)];
    return ours !== theirs ? ours < theirs : this.id < m.from;
  }

  /** This member's rank in the current term's ranking, or -1. */
  private successorRank(): number {
    return this.successorsTerm === this.term ? this.successors.indexOf(this.id) : -1;
  }

  /** The current term's rank-0 successor, or ''. */
  private rankZero(): NodeId {
    return this.successorsTerm === this.term ? (this.successors[0] ?? '') : '';
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
  }

  // ---- proposals ----------------------------------------------------------

  /** Append new entries as leader. Throws NOT_LEADER (with a hint), TRANSFER_IN_PROGRESS or OVERLOADED. */
  propose(items: readonly { kind: EntryKind; data: Uint8Array }[]): Proposed {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== '') {
      throw new WeftError(
        'TRANSFER_IN_PROGRESS',
        `leadership is moving to ${this.leadTransferee}; retry there shortly`,
      );
    }
    const bytes = items.reduce((sum, item) => sum + item.data.byteLength + entryOverheadBytes, 0);
    const uncommitted = this.log.bytesAfter(this.log.committed);
    if (uncommitted > 0 && uncommitted + bytes > this.config.maxUncommittedBytes) {
      throw new WeftError(
        'OVERLOADED',
        `over ${this.config.maxUncommittedBytes} bytes await commit; retry after a short back-off`,
      );
    }
    const proposed = this.appendEntries(items);
    this.broadcastAppend();
    // A single voter commits on its own once the entries are durable (see onPersisted).
    return proposed;
  }

  proposeConfChange(change: ConfChange): Proposed {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.pendingConfIndex > this.log.applied) {
      throw new WeftError(
        'CONF_CHANGE_PENDING',
        'another membership change is still being applied; retry when it is done',
      );
    }
    applyConfChange(this.conf, change);
    const proposed = this.propose([{ kind: 'config', data: encodeConfChange(change) }]);
    this.pendingConfIndex = proposed.lastIndex;
    return proposed;
  }

  private appendEntries(items: readonly { kind: EntryKind; data: Uint8Array }[]): Proposed {
    const firstIndex = this.log.lastIndex() + 1;
    const entries = items.map((item, i) => ({
      term: this.term,
      index: firstIndex + i,
      kind: item.kind,
      data: item.data,
    }));
    this.log.appendOwn(entries);
    return { term: this.term, firstIndex, lastIndex: firstIndex + entries.length - 1 };
  }

  // ---- reads (thesis §6.4) --------------------------------------------------

  /** Ask for a linearizable read index; the answer arrives as a ReadState in a later Ready. */
  readIndex(context: string): void {
    if (this.role === 'leader') {
      this.serveRead(context, this.id);
      return;
    }
    if (this.leader === '') throw new NotLeaderError('');
    this.send({ type: 'readIndex', from: this.id, to: this.leader, term: this.term, context });
  }

  private serveRead(context: string, requester: NodeId): void {
    if (this.reads.full() || this.readsBeforeCommit.length >= this.config.maxPendingReads) {
      this.answerRead(context, requester, 0);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      this.readsBeforeCommit.push({ context, requester });
      return;
    }
    const index = this.log.committed;
    if (this.config.readOnly === 'lease' || this.conf.voters.length === 1) {
      this.answerRead(context, requester, index);
      return;
    }
    this.reads.add(context, index, requester, this.id);
    this.broadcastHeartbeat(context);
  }

  private ackRead(context: string, from: NodeId): void {
    const confirmed = this.reads.ack(context, from, (acks) => hasQuorum(this.conf.voters, (id) => acks.has(id)));
    for (const read of confirmed) this.answerRead(read.context, read.requester, read.index);
  }

  private releaseReadsBeforeCommit(): void {
    const waiting = this.readsBeforeCommit;
    this.readsBeforeCommit = [];
    for (const read of waiting) this.serveRead(read.context, read.requester);
  }

  private answerRead(context: string, requester: NodeId, index: number): void {
    if (requester === this.id) this.readStates.push({ context, index });
    else this.send({ type: 'readIndexResp', from: this.id, to: requester, term: this.term, context, index });
  }

  /** On losing leadership every pending read fails fast, so readers retry elsewhere. */
  private failPendingReads(): void {
    for (const read of this.reads.drain()) this.answerRead(read.context, read.requester, 0);
    for (const read of this.readsBeforeCommit) this.answerRead(read.context, read.requester, 0);
    this.readsBeforeCommit = [];
  }

  // ---- leader transfer (thesis §3.10) ----------------------------------------

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (!this.conf.voters.includes(to)) {
      throw new WeftError('CONF_CHANGE_INVALID', `${to} is not a voter; leadership can only move to a voter`);
    }
    if (to === this.id || to === this.leadTransferee) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.progress.get(to);
    if (pr !== undefined && pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
  }

  // ---- reports from the driver ---------------------------------------------

  /**
   * The transport lost its connection to `id`. A leader stops streaming to
   * it optimistically and probes again. With S-Raft, a follower that loses
   * its leader acts on its rank at once: rank 0 campaigns now, rank 1
   * shortens its wait; plain Raft waits for its election timeout.
   */
  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (this.role === 'leader' && pr?.state === 'replicate') pr.becomeProbe();
    if (this.role !== 'follower' || id !== this.leader || this.config.consensus !== 's-raft') return;
    // The leader is gone: stop defending its lease and stop listening to it.
    this.lostLeader = id;
    this.leader = '';
    // If rank 0 already asked (it heard of the crash first), answer it now
    // rather than when it asks again a heartbeat later; or, if our log is
    // newer than its, campaign ourselves now (maybeOutrunSuccessor).
    const pending = this.pendingRankZeroPreVote;
    this.pendingRankZeroPreVote = undefined;
    if (pending !== undefined && pending.term === this.term + 1) this.step(pending);
    if (this.role !== 'follower') return;
    const rank = this.successorRank();
    if (rank === 0) {
      this.electionElapsed = 0;
      this.startElection();
    } else if (rank === 1) {
      this.randomizedElectionTimeout = Math.min(
        this.randomizedElectionTimeout,
        this.electionElapsed + this.config.promotionTicks,
      );
    }
  }

  /** S-Raft: a round trip to `id` measured by the driver, for ranking successors. */
  reportRtt(id: NodeId, rttMs: number): void {
    this.rtt.report(id, rttMs);
  }

  /** S-Raft: the current ranking, best first (empty in plain Raft or without a leader). */
  successorRanking(): readonly NodeId[] {
    return this.successorsTerm === this.term ? this.successors : [];
  }

  /** The snapshot to `id` was delivered (or failed); probe from it after the next heartbeat reply. */
  reportSnapshot(id: NodeId, delivered: boolean): void {
    const pr = this.progress.get(id);
    if (this.role !== 'leader' || pr?.state !== 'snapshot') return;
    if (!delivered) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true;
  }

  // ---- effects of persistence and apply ----------------------------------------

  /** Entries up to (index, term) are durable: as leader, that counts as our own ack. */
  onPersisted(index: number, term: number): void {
    this.log.stableTo(index, term);
    if (this.role !== 'leader') return;
    const self = this.progress.get(this.id);
    if (self !== undefined) self.match = Math.max(self.match, this.log.stableIndex);
    if (this.maybeCommit()) this.broadcastAppend();
  }

  /** Committed entries up to `index` are applied; membership changes among them take effect now. */
  onApplied(entries: readonly Entry[]): void {
    for (const entry of entries) {
      // A snapshot restored since these were handed out already covers them.
      if (entry.index <= this.log.applied) continue;
      this.log.appliedTo(entry.index);
      if (entry.kind === 'config') this.applyConfEntry(entry);
    }
  }

  private applyConfEntry(entry: Entry): void {
    let next: ConfState;
    try {
      next = applyConfChange(this.conf, decodeConfChange(entry.data));
    } catch {
      // Every member reaches the same verdict on the same entry, so skipping is deterministic.
      return;
    }
    this.conf = next;
    if (this.role !== 'leader') return;
    const members = [...next.voters, ...next.learners];
    for (const id of members) {
      if (this.progress.has(id)) continue;
      this.addProgress(id);
      this.sendAppend(id);
    }
    for (const id of [...this.progress.keys()]) if (!members.includes(id)) this.progress.delete(id);
    if (!isMember(next, this.id) || !next.voters.includes(this.id)) {
      this.becomeFollower(this.term, '');
      return;
    }
    if (this.leadTransferee !== '' && !next.voters.includes(this.leadTransferee)) this.leadTransferee = '';
    if (this.maybeCommit()) this.broadcastAppend();
  }

  /** Record that a snapshot at the applied index exists, and drop log entries up to `keepFrom - 1`. */
  compact(snapshot: SnapshotMeta, keepFrom: number): void {
    assert(snapshot.index <= this.log.applied, 'snapshots cover applied entries only');
    assert(this.log.term(snapshot.index) === snapshot.term, 'the snapshot term matches the log');
    this.snapshot = snapshot;
    this.log.compact(Math.min(snapshot.index, keepFrom - 1));
  }

  /** The snapshot point for the state as applied now. */
  appliedSnapshotMeta(): SnapshotMeta {
    const index = this.log.applied;
    const term = this.log.term(index);
    assert(term !== undefined, 'the applied index is in the log or at its compaction point');
    return { index, term, conf: this.conf };
  }

  progressOf(id: NodeId): Readonly<Progress> | undefined {
    return this.progress.get(id);
  }

  private send(message: Message): void {
    this.messages.push(message);
  }
}
