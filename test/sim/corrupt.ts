// Corrupted messages from members (issue 10): a buggy member's message with a
// field out of range, or one it should not send at all. What a real node does
// with it is what the simulator does: the transport's checks
// (src/transport/validate.ts) refuse what is malformed, the core's guard
// (src/raft/guard.ts) refuses what cannot be right for this receiver, and the
// rest (a higher term on a Heartbeat, a TimeoutNow) is up to Raft's own rules
// and leader stickiness. Corruptions that a correct-looking but lying member
// could send (an AppendResp claiming an index it does not hold but we did send)
// are Byzantine and out of scope: Raft does not survive them.
import type { Message } from '../../src/raft/types.js';
import type { Prng } from './prng.js';

/** Chance that a message delivered during the chaos phase arrives corrupted (corrupting runs only). */
export const CORRUPT_PROBABILITY = 0.02;

type Raw = Record<string, unknown>;

const CORRUPTIONS: ReadonlyArray<(m: Message & Raw) => Raw> = [
  (m) => ({ ...m, term: 2 ** 53 - 1 }),
  (m) => ({ ...m, term: -1 }),
  (m) => ({ ...m, term: m.term + 0.5 }),
  (m) => ({ ...m, term: m.term + 10_000_000 }),
  (m) => ({ ...m, to: m.from }),
  (m) => ({ ...m, from: '' }),
  (m) => ({ ...m, type: 'Gossip' }),
  // A Heartbeat at term + 100 from whoever sent this (a follower, often), claiming nothing committed.
  (m) => ({ type: 'Heartbeat', from: m.from, to: m.to, term: m.term + 100, commit: 0, readContext: null }),
  // A TimeoutNow from whoever sent this, at its term.
  (m) => ({ type: 'TimeoutNow', from: m.from, to: m.to, term: m.term }),
  // An answer for an index never sent.
  (m) => ({ type: 'AppendResp', from: m.from, to: m.to, term: m.term, reject: false, index: 2 ** 40, rejectHint: 0, rejectHintTerm: 0 }),
  (m) => {
    switch (m.type) {
      case 'Append':
        // Terms that go backwards, or a configuration change nobody knows.
        return m.entries.length >= 2
          ? { ...m, entries: m.entries.map((e, i) => ({ ...e, term: m.term - i })) }
          : { ...m, entries: [{ index: m.prevLogIndex + 1, term: m.term, type: 'config', change: { kind: 'nuke', node: m.to } }] };
      case 'InstallSnapshot':
        return { ...m, snapshot: { ...m.snapshot, meta: { ...m.snapshot.meta, conf: { voters: [], learners: [] } } } };
      case 'Vote':
      case 'PreVote':
        return { ...m, lastLogTerm: m.term + 1 };
      case 'AppendResp':
        return { ...m, index: -5 };
      case 'Heartbeat':
      case 'HeartbeatResp':
        return { ...m, readContext: 42 };
      default:
        return { ...m, reject: 'maybe' };
    }
  },
];

/** `m` with one corruption drawn from `rng`, as raw (unchecked) data. */
export function corrupt(m: Message, rng: Prng): unknown {
  return rng.pick(CORRUPTIONS)(m as Message & Raw);
}
