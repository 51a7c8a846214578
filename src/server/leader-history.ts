// The leaders and terms this node has seen, for the console's timeline: one
// entry per change of (term, leader), newest last, bounded. Kept by the node
// that serves the console, so a page opened now still shows the last minutes.
// In memory: a restarted node's record starts again; an open page keeps what
// it saw before (console/js/leader-history.js).

export interface LeaderChange {
  /** Wall clock, ms since epoch, when this node first saw it (for display only). */
  atMs: number;
  term: number;
  /** null: this node knew no leader in that term (an election was going on). */
  leader: string | null;
}

/** Enough for hours of a healthy cluster and minutes of a flapping one. */
export const LEADER_CHANGES_MAX = 256;

export class LeaderHistory {
  private readonly changes: LeaderChange[] = [];

  /** Records what the node sees now; a no-op unless term or leader changed. */
  observe(atMs: number, term: number, leader: string | null): void {
    const last = this.changes[this.changes.length - 1];
    if (last !== undefined && last.term === term && last.leader === leader) return;
    this.changes.push({ atMs, term, leader });
    if (this.changes.length > LEADER_CHANGES_MAX) this.changes.shift();
  }

  list(): LeaderChange[] {
    return this.changes.map((change) => ({ ...change }));
  }
}
