import { NotLeaderError, WeftError } from '../../core/errors.ts';
import type { ConfChange } from '../../raft/conf-change.ts';
import type { NodeId } from '../../raft/types.ts';
import { raceWithDeadline } from '../../transport/deadline.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { CallOptions } from '../kv-service.ts';
import type { RaftLoop } from './raft-loop.ts';
import { defaultTimeoutMs, untilDeadline } from './retry.ts';

export type MemberOp =
  | { readonly op: 'add'; readonly name: NodeId; readonly address: string; readonly learner: boolean }
  | { readonly op: 'remove'; readonly name: NodeId }
  | { readonly op: 'promote'; readonly name: NodeId };

const memberMethod = 'kv.member';
/** etcd's rule: a learner is promoted only once its log has reached 90% of the leader's commit index. */
const learnerReadyShare = 0.9;

/**
 * Membership changes at run time. They are proposed by the leader (a
 * follower forwards the request), one at a time (Raft refuses a second
 * while one is being applied), and the call returns once the change is
 * applied on the member that proposed it.
 */
export class MembershipHandler {
  constructor(
    private readonly loop: RaftLoop,
    private readonly transport: PeerTransport,
  ) {}

  serve(): void {
    this.transport.handle(memberMethod, async (payload) => {
      const op = JSON.parse(new TextDecoder().decode(payload)) as MemberOp;
      if (this.loop.node.role !== 'leader') throw new NotLeaderError(this.loop.status().leader);
      await raceWithDeadline(this.propose(op), { timeoutMs: defaultTimeoutMs }, `member ${op.op}`);
      return new Uint8Array(0);
    });
  }

  request(op: MemberOp, options: CallOptions = {}): Promise<void> {
    return untilDeadline(options, `member ${op.op}`, async (remainingMs) => {
      const { role, leader } = this.loop.status();
      if (role === 'leader') {
        await raceWithDeadline(this.propose(op), { timeoutMs: remainingMs }, `member ${op.op}`);
        return;
      }
      const address = leader === '' ? undefined : this.loop.directory.address(leader);
      if (address === undefined) throw new NotLeaderError('');
      const payload = new TextEncoder().encode(JSON.stringify(op));
      await this.transport.request(address, memberMethod, payload, { timeoutMs: remainingMs });
    });
  }

  /** On the leader: check the request against the membership, then propose it. */
  private async propose(op: MemberOp): Promise<void> {
    await this.loop.proposeConfChange(this.changeFor(op));
  }

  private changeFor(op: MemberOp): ConfChange {
    const { voters, learners, commit } = { ...this.loop.status().conf, commit: this.loop.status().commit };
    const members = [...voters, ...learners];
    switch (op.op) {
      case 'add': {
        if (members.includes(op.name)) throw new WeftError('MEMBER_EXISTS', `a member named ${op.name} already exists`);
        const taken = members.find((m) => this.loop.directory.address(m) === op.address);
        if (taken !== undefined)
          throw new WeftError('MEMBER_EXISTS', `Peer URLs already exists (member ${taken} uses ${op.address})`);
        return { type: op.learner ? 'addLearner' : 'addVoter', node: op.name, context: op.address };
      }
      case 'remove':
        if (!members.includes(op.name)) throw new WeftError('MEMBER_NOT_FOUND', `${op.name} is not a member`);
        return { type: 'remove', node: op.name, context: '' };
      case 'promote': {
        if (!learners.includes(op.name)) {
          throw new WeftError('MEMBER_NOT_LEARNER', `${op.name} is not a learner; only learners can be promoted`);
        }
        const match = this.loop.node.progressOf(op.name)?.match ?? 0;
        if (match < learnerReadyShare * commit) {
          throw new WeftError(
            'LEARNER_NOT_READY',
            `can only promote a learner member which is in sync with leader (${op.name} has ${match} of ${commit}); retry when it has caught up`,
          );
        }
        return { type: 'promote', node: op.name, context: '' };
      }
    }
  }
}
