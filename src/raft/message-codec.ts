import { BinaryReader, BinaryWriter, packCopies } from '../core/binary.ts';
import { assert } from '../core/assert.ts';
import type { Message, MessageType } from './messages.ts';
import type { ConfState, Entry, EntryKind, NodeId, SnapshotMeta } from './types.ts';

/**
 * The wire form of Raft messages between nodes, versioned and compact:
 *
 *   batch   = u8 format (1) | uvarint count | message*
 *   message = u8 type | string from | string to | uvarint term | fields
 *
 * Integers are uvarints, byte strings and text length-prefixed (binary.ts).
 * A batch carries every message a Ready holds for one peer, so a Ready costs
 * one transport send per peer. Decoding is bounded: malformed bytes are a
 * DECODE_FAILED error, never an out-of-bounds read or a huge allocation.
 */
/** 2: vote requests carry the candidate's S-Raft rank. */
export const MESSAGE_FORMAT = 2;

const types: readonly MessageType[] = [
  'app',
  'appResp',
  'vote',
  'preVote',
  'voteResp',
  'preVoteResp',
  'heartbeat',
  'heartbeatResp',
  'snap',
  'timeoutNow',
  'readIndex',
  'readIndexResp',
];
const kinds: readonly EntryKind[] = ['normal', 'noop', 'config'];

export function encodeMessages(messages: readonly Message[]): Uint8Array {
  // Sized for the entries up front: growing by doubling copied a batch of appends four times.
  let sizeHint = 16;
  for (const m of messages) {
    sizeHint += 64;
    if (m.type === 'app') for (const entry of m.entries) sizeHint += entry.data.length + 24;
  }
  const writer = new BinaryWriter(sizeHint).u8(MESSAGE_FORMAT).uvarint(messages.length);
  for (const message of messages) writeMessage(writer, message);
  return writer.finish().slice();
}

export function decodeMessages(bytes: Uint8Array): Message[] {
  const reader = new BinaryReader(bytes, 'Raft message batch');
  const format = reader.u8();
  if (format !== MESSAGE_FORMAT) reader.fail(`unknown message format ${format}`);
  const count = reader.uvarint();
  // Each message takes at least 4 bytes: a count larger than that is damage.
  if (count > bytes.length) reader.fail(`count ${count} exceeds the batch`);
  const messages: Message[] = [];
  for (let i = 0; i < count; i += 1) messages.push(readMessage(reader));
  return messages;
}

function writeMessage(w: BinaryWriter, m: Message): void {
  w.u8(types.indexOf(m.type)).string(m.from).string(m.to).uvarint(m.term);
  switch (m.type) {
    case 'app':
      w.uvarint(m.index).uvarint(m.logTerm).uvarint(m.commit).uvarint(m.entries.length);
      for (const entry of m.entries) writeEntry(w, entry);
      return;
    case 'appResp':
      w.uvarint(m.index).bool(m.reject).uvarint(m.hintIndex).uvarint(m.hintTerm);
      return;
    case 'vote':
    case 'preVote':
      w.uvarint(m.lastIndex)
        .uvarint(m.lastTerm)
        .bool(m.transfer)
        .uvarint(m.rank + 1);
      return;
    case 'voteResp':
    case 'preVoteResp':
      w.bool(m.reject);
      return;
    case 'heartbeat':
      w.uvarint(m.commit).string(m.context).uvarint(m.successors.length);
      for (const id of m.successors) w.string(id);
      return;
    case 'heartbeatResp':
    case 'readIndex':
      w.string(m.context);
      return;
    case 'snap':
      writeSnapshotMeta(w, m.snapshot);
      return;
    case 'timeoutNow':
      return;
    case 'readIndexResp':
      w.string(m.context).uvarint(m.index);
      return;
  }
}

function readMessage(r: BinaryReader): Message {
  const type = types[r.u8()];
  if (type === undefined) r.fail('unknown message type');
  const envelope = { from: r.string(), to: r.string(), term: r.uvarint() };
  switch (type) {
    case 'app': {
      const index = r.uvarint();
      const logTerm = r.uvarint();
      const commit = r.uvarint();
      return { type, ...envelope, index, logTerm, commit, entries: readEntries(r) };
    }
    case 'appResp':
      return {
        type,
        ...envelope,
        index: r.uvarint(),
        reject: r.u8() === 1,
        hintIndex: r.uvarint(),
        hintTerm: r.uvarint(),
      };
    case 'vote':
    case 'preVote':
      return {
        type,
        ...envelope,
        lastIndex: r.uvarint(),
        lastTerm: r.uvarint(),
        transfer: r.u8() === 1,
        rank: r.uvarint() - 1,
      };
    case 'voteResp':
    case 'preVoteResp':
      return { type, ...envelope, reject: r.u8() === 1 };
    case 'heartbeat': {
      const commit = r.uvarint();
      const context = r.string();
      return { type, ...envelope, commit, context, successors: readList(r, (x) => x.string()) };
    }
    case 'heartbeatResp':
    case 'readIndex':
      return { type, ...envelope, context: r.string() };
    case 'snap':
      return { type, ...envelope, snapshot: readSnapshotMeta(r) };
    case 'timeoutNow':
      return { type, ...envelope };
    case 'readIndexResp':
      return { type, ...envelope, context: r.string(), index: r.uvarint() };
  }
}

function writeEntry(w: BinaryWriter, entry: Entry): void {
  w.uvarint(entry.term).uvarint(entry.index).u8(kinds.indexOf(entry.kind)).bytes(entry.data);
}

/** An entry whose data is a view into the message, not a copy. */
function readEntryView(r: BinaryReader): Entry {
  const term = r.uvarint();
  const index = r.uvarint();
  const kind = kinds[r.u8()];
  if (kind === undefined) r.fail('unknown entry kind');
  return { term, index, kind, data: r.bytesView() };
}

/** An append's entries, their data copied out of the message into shared buffers (see packCopies). */
function readEntries(r: BinaryReader): Entry[] {
  const views = readList(r, readEntryView);
  const data = packCopies(views.map((entry) => entry.data));
  return views.map((entry, i) => ({ term: entry.term, index: entry.index, kind: entry.kind, data: data[i]! }));
}

export function writeSnapshotMeta(w: BinaryWriter, meta: SnapshotMeta): void {
  w.uvarint(meta.index).uvarint(meta.term);
  writeConf(w, meta.conf);
}

export function readSnapshotMeta(r: BinaryReader): SnapshotMeta {
  const index = r.uvarint();
  const term = r.uvarint();
  return { index, term, conf: readConf(r) };
}

function writeConf(w: BinaryWriter, conf: ConfState): void {
  w.uvarint(conf.voters.length);
  for (const id of conf.voters) w.string(id);
  w.uvarint(conf.learners.length);
  for (const id of conf.learners) w.string(id);
}

function readConf(r: BinaryReader): ConfState {
  const voters: NodeId[] = readList(r, (x) => x.string());
  return { voters, learners: readList(r, (x) => x.string()) };
}

/** A count-prefixed list; a count beyond what the remaining bytes could hold is damage. */
function readList<T>(r: BinaryReader, read: (reader: BinaryReader) => T): T[] {
  const count = r.uvarint();
  if (count > r.remaining) r.fail(`list of ${count} exceeds the data`);
  const items: T[] = [];
  for (let i = 0; i < count; i += 1) items.push(read(r));
  assert(items.length === count, 'read the whole list');
  return items;
}
