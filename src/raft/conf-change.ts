import { WeftError } from '../core/errors.ts';
import type { ConfState, NodeId } from './types.ts';

/**
 * Membership changes, one server at a time (Raft thesis §4.1, as hashicorp/raft
 * does), applied when the change entry is committed (as etcd-io/raft does).
 *
 * Why one at a time and not joint consensus: any majority of the old voter
 * set and any majority of a set with one member more or less overlap, so no
 * two leaders can be elected in one term across the change; this is the
 * whole argument, and it needs no intermediate joint configuration. Two
 * rules keep it true: a leader has at most one unapplied change in flight
 * (`pendingConfIndex`), and it proposes none before an entry of its own term
 * is committed (the fix to the single-server bug reported on raft-dev in
 * 2015: the no-op entry each new leader appends is what commits first).
 * Learners join without a vote, catch up, and are then promoted; adding a
 * voter directly is allowed but slows commits until it catches up.
 */
export type ConfChangeType = 'addVoter' | 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: NodeId;
  /** Opaque to Raft: the node layer puts the member's address here. */
  readonly context: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  return JSON.parse(decoder.decode(data)) as ConfChange;
}

/** The configuration after `change`, or a CONF_CHANGE_INVALID error saying why not. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const { node } = change;
  const isVoter = conf.voters.includes(node);
  const isLearner = conf.learners.includes(node);
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => id !== node);
  switch (change.type) {
    case 'addVoter':
      if (isVoter) throw invalid(`${node} is already a voter`);
      return { voters: [...conf.voters, node].sort(), learners: without(conf.learners) };
    case 'addLearner':
      if (isVoter || isLearner) throw invalid(`${node} is already a member; remove it first`);
      return { voters: [...conf.voters], learners: [...conf.learners, node].sort() };
    case 'promote':
      if (!isLearner) throw invalid(`${node} is not a learner; only learners can be promoted`);
      return { voters: [...conf.voters, node].sort(), learners: without(conf.learners) };
    case 'remove':
      if (!isVoter && !isLearner) throw invalid(`${node} is not a member`);
      if (isVoter && conf.voters.length === 1) throw invalid(`${node} is the last voter; a cluster needs one`);
      return { voters: without(conf.voters), learners: without(conf.learners) };
  }
}

function invalid(message: string): WeftError {
  return new WeftError('CONF_CHANGE_INVALID', `membership change refused: ${message}`);
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}
