// Which messages of a Ready may go out before its durable part is persisted.
//
// A leader may send its new entries to followers in parallel with writing
// them to its own disk (Raft dissertation §10.2.1; etcd's raft node sends a
// leader's messages before saving the Ready to its WAL). It stays safe
// because the leader counts its own copy towards commit only once persisted
// (RaftLog.persistedIndex, advanced in advance(); correctness.md #4): until
// then an entry commits only if a majority of OTHER logs hold it durably.
//
// Only Append and Heartbeat qualify, and only when the Ready changes neither
// term nor vote and installs no snapshot: a message at a term that is not yet
// durable could, after a crash, let the same term produce a second, different
// entry at the same index (a single voter with a learner campaigns, leads and
// appends in one Ready). Everything else (votes, responses, TimeoutNow,
// InstallSnapshot) waits for the write as before.
import type { HardState, Message, Ready } from './types.js';

/** `persisted`: the term and vote already durable before this Ready (the previous Ready's, or what was loaded). */
export function sendableBeforePersist(rd: Ready, persisted: Pick<HardState, 'term' | 'vote'>): (m: Message) => boolean {
  const hardStateKept = rd.hardState === null || (rd.hardState.term === persisted.term && rd.hardState.vote === persisted.vote);
  if (!hardStateKept || rd.snapshot !== null) return () => false;
  return (m) => (m.type === 'Append' || m.type === 'Heartbeat') && m.term === persisted.term;
}
