// Checks of a peer's message against what this node knows, before step() acts
// on it. The transport has already checked every field's shape and range
// (src/transport/validate.ts); what is left needs our state: our term, who
// leads it, how long our log is. A message that fails cannot come from a
// correct member, so it is refused (MessageRefusedError: logged, connection
// closed) rather than allowed to crash, wedge or corrupt this replica.
//
// Distinct from leader stickiness (Raft.step), which *ignores* messages that a
// correct member can send in a race (a newer leader heard of late).
import type { LogIndex, Message, NodeId, Term } from './types.js';

/**
 * How far ahead of ours a peer's term may be. Terms rise by one per election,
 * so a correct peer is never a million elections ahead of a node that was
 * cut off for any plausible time; a term beyond that (the Heartbeat at
 * 2^53 - 1) would exhaust the term space or fence out every candidate.
 */
export const TERM_AHEAD_MAX = 1_000_000;

export interface GuardView {
  term: Term;
  role: 'follower' | 'pre-candidate' | 'candidate' | 'leader';
  leader: NodeId | null;
  lastIndex: LogIndex;
  commit: LogIndex;
  /** Whether our log has an entry of term `t` at `index`. */
  matchTerm(index: LogIndex, t: Term): boolean;
  /** The first index of `entries` our log disagrees with (0 if none). */
  findConflict(entries: Extract<Message, { type: 'Append' }>['entries']): LogIndex;
}

/** Why `m` must be refused, or null when the core may step it. Pure: reads `v` only. */
export function refusalOf(m: Message, v: GuardView): string | null {
  if (m.term > v.term + TERM_AHEAD_MAX) return `term ${m.term} is more than ${TERM_AHEAD_MAX} ahead of ours (${v.term})`;
  // Older terms are answered or dropped by the paper's rules; newer ones by stickiness and §5.1.
  if (m.term !== v.term) return null;
  switch (m.type) {
    case 'Append':
    case 'Heartbeat':
    case 'InstallSnapshot':
    case 'TimeoutNow':
      // §5.2 Election Safety: at most one leader per term.
      if (v.role === 'leader') return `${m.type} from ${m.from} in our own term ${v.term}, in which we lead`;
      if (v.leader !== null && v.leader !== m.from) return `${m.type} from ${m.from} in term ${v.term}, whose leader is ${v.leader}`;
      if (m.type === 'Append' && v.matchTerm(m.prevLogIndex, m.prevLogTerm) && m.entries.length > 0) {
        // §5.4 Leader Completeness: a leader never overwrites what is committed.
        const conflict = v.findConflict(m.entries);
        if (conflict !== 0 && conflict <= v.commit) return `Append overwrites committed entry ${conflict} (commit ${v.commit})`;
      }
      return null;
    case 'AppendResp':
      // An answer about an index we never sent: acting on it would commit entries we do not have.
      if (v.role === 'leader' && m.index > v.lastIndex) return `AppendResp at index ${m.index}, beyond our last index ${v.lastIndex}`;
      return null;
    default:
      return null;
  }
}
