import type { Message } from '../../raft/messages.ts';

/**
 * Elections are rare, and a failover's time is spent in them: the node
 * logs each of their messages when it leaves or is stepped (as etcd logs
 * them), so that `weft bench failover --explain-over` shows where a slow
 * round waited. The fields and text of such a line, or undefined for any
 * other message.
 */
export function electionLine(
  direction: 'sent' | 'received',
  m: Message,
): { fields: Record<string, string | number | boolean>; text: string } | undefined {
  if (m.type !== 'preVote' && m.type !== 'vote' && m.type !== 'preVoteResp' && m.type !== 'voteResp') return undefined;
  const peer = direction === 'sent' ? m.to : m.from;
  const detail = 'rank' in m ? { rank: m.rank } : { granted: !m.reject };
  return { fields: { peer, term: m.term, ...detail }, text: `${direction} ${m.type}` };
}
