// One Append per follower per Ready, and one success AppendResp per leader.
//
// The leader sends an Append for every proposal (propose → broadcastAppend)
// and an empty one for every commit advance; under 32 clients that was one
// Append per entry per follower (~7,000/s from the leader, each packed,
// framed, decoded, checked and stepped on its own, and answered by its own
// AppendResp; issue 12). Messages of one Ready leave together, so runs of them
// to one peer are merged here before the Ready is handed out:
//  - consecutive Appends of one term whose entries follow on (the second's
//    prevLogIndex is the first's last index) become one Append with both
//    runs of entries and the later commit, within maxEntriesPerAppend and
//    maxBytesPerAppend. The follower's step of the merged Append is the same
//    as its steps of the two in turn: same prevLogIndex/prevLogTerm check,
//    same entries, commit = min(leaderCommit, last new index);
//  - consecutive successful AppendResps of one term become the one with the
//    highest index: "my log matches yours up to j" implies it for every
//    i ≤ j, and the leader frees its in-flight window by index (progress.ts),
//    so nothing it tracks is lost. Rejects are never merged or dropped.
// Only a peer's LAST queued message is ever merged into, so no message moves
// ahead of another to the same peer (a TimeoutNow after an Append stays after
// it); messages to different peers have no order between them.
// This works within one Ready; across Readies the node holds a commit-only
// Append back for a moment (src/node/append-hold.ts).

import { entryBytes } from './entry-size.js';
import type { Message, NodeId } from './types.js';

export interface AppendLimits {
  maxEntriesPerAppend: number;
  maxBytesPerAppend: number;
}

type Append = Extract<Message, { type: 'Append' }>;
type AppendResp = Extract<Message, { type: 'AppendResp' }>;

/** `msgs` with runs merged as above, in their order; the messages of `msgs` may be changed in place. */
export function coalesceMessages(msgs: Message[], limits: AppendLimits): Message[] {
  if (msgs.length < 2) return msgs;
  const out: Message[] = [];
  /** Per peer: the last message queued to it (in `out`), and the bytes of its entries if it is an Append. */
  const last = new Map<NodeId, { m: Message; bytes: number }>();
  for (const m of msgs) {
    const prev = last.get(m.to);
    const bytes = m.type === 'Append' ? appendBytes(m) : 0;
    if (prev !== undefined && prev.m.type === 'Append' && m.type === 'Append' && mayJoinAppends(prev.m, m, prev.bytes + bytes, limits)) {
      prev.m.entries = prev.m.entries.length === 0 ? m.entries : prev.m.entries.concat(m.entries);
      prev.m.commit = m.commit > prev.m.commit ? m.commit : prev.m.commit;
      prev.bytes += bytes;
      continue;
    }
    if (prev !== undefined && prev.m.type === 'AppendResp' && m.type === 'AppendResp' && mayJoinAcks(prev.m, m)) {
      if (m.index > prev.m.index) prev.m.index = m.index;
      continue;
    }
    out.push(m);
    last.set(m.to, { m, bytes });
  }
  return out;
}

function mayJoinAppends(a: Append, b: Append, bytes: number, limits: AppendLimits): boolean {
  return (
    a.term === b.term &&
    b.prevLogIndex === a.prevLogIndex + a.entries.length &&
    a.entries.length + b.entries.length <= limits.maxEntriesPerAppend &&
    bytes <= limits.maxBytesPerAppend
  );
}

function mayJoinAcks(a: AppendResp, b: AppendResp): boolean {
  return a.term === b.term && !a.reject && !b.reject;
}

function appendBytes(m: Append): number {
  let bytes = 0;
  for (const e of m.entries) bytes += entryBytes(e);
  return bytes;
}
