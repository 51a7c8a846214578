// The safety properties of Raft (Figure 3 of the paper), checked against
// global history as the simulation runs. Each check throws an
// InvariantViolation naming the property; the run stops there.
//
// - election safety: at most one leader per term, over all history;
// - log matching: in LogRegistry (fed by every SimStore write);
// - leader completeness: an entry committed in term t is in the log of every
//   leader of a term > t. We observe commitment when a node applies an entry
//   and record the node's term then as the commit term: an upper bound on the
//   real one, so the check never fires falsely;
// - state machine safety: no two nodes apply different entries at one index;
// - snapshot consistency: a restored snapshot equals the applied history.
// Leader append-only and commit/applied monotonicity are checked in SimNode.

import type { Entry, Snapshot } from '../../src/raft/types.js';
import { commandId, entryFingerprint } from './fingerprint.js';
import type { SimStore } from './store.js';
import { violate } from './violation.js';

interface CommittedEntry {
  fingerprint: string;
  command: string | null;
  firstNode: string;
  /** Upper bound of the term in which the entry was committed. */
  commitTerm: number;
}

export interface LeaderView {
  id: string;
  term: number;
  store: SimStore;
}

export class Checker {
  private readonly leaderByTerm = new Map<number, string>();
  private readonly committed = new Map<number, CommittedEntry>();
  private readonly ackedSet = new Set<string>();
  /** Command ids in the order they were first applied anywhere (acknowledged to the client). */
  readonly acked: string[] = [];

  committedCount(): number {
    return this.committed.size;
  }

  isAcked(command: string): boolean {
    return this.ackedSet.has(command);
  }

  /** Called whenever a node is seen as leader; cheap when nothing changed. */
  observeLeader(leader: LeaderView): boolean {
    const seen = this.leaderByTerm.get(leader.term);
    if (seen === undefined) {
      this.leaderByTerm.set(leader.term, leader.id);
      this.checkLeaderHasCommitted(leader, null);
      return true;
    }
    if (seen !== leader.id) {
      violate('election safety', `${seen} and ${leader.id} were both leader in term ${leader.term}`);
    }
    return false;
  }

  private checkLeaderHasCommitted(leader: LeaderView, onlyIndex: number | null): void {
    const check = (index: number, c: CommittedEntry): void => {
      if (c.commitTerm >= leader.term) return;
      if (index <= leader.store.snapshotIndex()) return;
      const e = leader.store.entryAt(index);
      if (e === null || entryFingerprint(e) !== c.fingerprint) {
        violate(
          'leader completeness',
          `${leader.id}, leader of term ${leader.term}, lacks entry ${index} (${c.fingerprint}, committed by term ${c.commitTerm}, applied first by ${c.firstNode}); it holds ${e ? entryFingerprint(e) : 'nothing'}`,
        );
      }
    };
    if (onlyIndex !== null) {
      const c = this.committed.get(onlyIndex);
      if (c) check(onlyIndex, c);
      return;
    }
    for (const [index, c] of this.committed) check(index, c);
  }

  /** A node applied `e` while at `nodeTerm`; `leaders` are the nodes that currently think they lead. */
  observeApplied(node: string, e: Entry, nodeTerm: number, leaders: readonly LeaderView[]): void {
    const fingerprint = entryFingerprint(e);
    const seen = this.committed.get(e.index);
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint) {
        violate(
          'state machine safety',
          `${node} applied ${fingerprint} at index ${e.index} but ${seen.firstNode} applied ${seen.fingerprint} there`,
        );
      }
      return;
    }
    const command = commandId(e);
    this.committed.set(e.index, { fingerprint, command, firstNode: node, commitTerm: nodeTerm });
    // Applied anywhere means committed: it must survive, answered or not.
    if (command !== null) this.acknowledge(command);
    for (const leader of leaders) this.checkLeaderHasCommitted(leader, e.index);
  }

  /** A client was told `command` applied: it must never be lost from now on. */
  acknowledge(command: string): void {
    if (this.ackedSet.has(command)) return;
    this.ackedSet.add(command);
    this.acked.push(command);
  }

  /** A node restored `state` (command ids by index) from a snapshot: it must equal the applied history. */
  observeRestore(node: string, snapshot: Snapshot, commands: readonly string[], commandIndexes: readonly number[]): void {
    const upTo = snapshot.meta.index;
    let k = 0;
    for (let index = 1; index <= upTo; index++) {
      const c = this.committed.get(index);
      const inSnapshot = k < commandIndexes.length && commandIndexes[k] === index ? commands[k++] : null;
      if (c === undefined) {
        violate('snapshot consistency', `${node} restored a snapshot at ${upTo} covering index ${index}, which no node ever applied`);
      }
      if (c.command !== inSnapshot) {
        violate(
          'snapshot consistency',
          `${node} restored a snapshot at ${upTo} holding ${inSnapshot ?? 'no command'} at index ${index}, but ${c.firstNode} applied ${c.command ?? c.fingerprint} there`,
        );
      }
    }
    if (k !== commandIndexes.length) {
      violate('snapshot consistency', `${node} restored a snapshot at ${upTo} with commands beyond its index`);
    }
  }
}
