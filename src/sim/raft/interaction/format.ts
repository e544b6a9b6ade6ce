import { decodeConfChange } from '../../../raft/conf-change.ts';
import type { Message } from '../../../raft/messages.ts';
import type { Ready } from '../../../raft/raft-node.ts';
import type { Entry } from '../../../raft/types.ts';

/** Compact text forms for golden output: stable, short, and easy to read in a diff. */
export function formatEntry(entry: Entry): string {
  const position = `${entry.term}/${entry.index}`;
  if (entry.kind === 'noop') return `${position} noop`;
  if (entry.kind === 'config') {
    const change = decodeConfChange(entry.data);
    return `${position} conf ${change.type} ${change.node}`;
  }
  return `${position} ${new TextDecoder().decode(entry.data)}`;
}

export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(', ')}]`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.logTerm}/${m.index} commit=${m.commit} entries=${formatEntries(m.entries)}`;
    case 'appResp':
      return m.reject ? `${head} REJECT ${m.index} hint=${m.hintTerm}/${m.hintIndex}` : `${head} index=${m.index}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastTerm}/${m.lastIndex}${m.transfer ? ' transfer' : ''}${m.rank >= 0 ? ` rank=${m.rank}` : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head}${m.reject ? ' REJECT' : ''}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context === '' ? '' : ` ctx=${m.context}`}${
        m.successors.length === 0 ? '' : ` successors=${m.successors.join(',')}`
      }`;
    case 'heartbeatResp':
      return `${head}${m.context === '' ? '' : ` ctx=${m.context}`}`;
    case 'snap':
      return `${head} snapshot=${m.snapshot.term}/${m.snapshot.index} voters=${m.snapshot.conf.voters.join(',')}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResp':
      return `${head} ctx=${m.context} index=${m.index}`;
  }
}

export function formatReady(id: string, ready: Ready): string[] {
  const lines: string[] = [];
  if (ready.softState !== undefined) {
    lines.push(`${id} soft: ${ready.softState.role} leader=${ready.softState.leader || '-'}`);
  }
  if (ready.hardState !== undefined) {
    const h = ready.hardState;
    lines.push(`${id} hard: term=${h.term} vote=${h.vote || '-'} commit=${h.commit}`);
  }
  if (ready.snapshot !== undefined) lines.push(`${id} snapshot: ${ready.snapshot.term}/${ready.snapshot.index}`);
  if (ready.entries.length > 0) lines.push(`${id} persist: ${formatEntries(ready.entries)}`);
  if (ready.committedEntries.length > 0) lines.push(`${id} apply: ${formatEntries(ready.committedEntries)}`);
  for (const read of ready.readStates) lines.push(`${id} read: ctx=${read.context} index=${read.index}`);
  for (const m of ready.messages) lines.push(`  ${formatMessage(m)}`);
  return lines;
}
