// Polls every node's GET /v1/cluster to see who leads in which term: the
// leader-term lane of the report's timeline, the recovery check, and the
// nemesis's idea of who the leader is right now.
import type { LeaderObservation } from '../history.js';
import { attempt } from '../workload/http.js';

export const OBSERVE_EVERY_MS = 300;
export const OBSERVE_TIMEOUT_MS = 250;
/** An observation older than this does not name the current leader. */
export const LEADER_FRESH_MS = 1500;

export interface Observable {
  id: string;
  apiUrl: string;
  /** Skip nodes that are down or paused: their silence is not news. */
  reachable(): boolean;
}

export class LeaderObserver {
  readonly observations: LeaderObservation[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly nodes: () => Observable[],
    private readonly nowMs: () => number,
    /** How requests are sent (a TLS run: HTTPS trusting the cluster CA). */
    private readonly through: typeof fetch = fetch,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), OBSERVE_EVERY_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all(
        this.nodes()
          .filter((n) => n.reachable())
          .map(async (n) => {
            const a = await attempt('GET', `${n.apiUrl}/v1/cluster?consistency=stale`, undefined, { timeoutMs: OBSERVE_TIMEOUT_MS, through: this.through });
            const atMs = this.nowMs();
            if (a.kind !== 'answer' || a.status !== 200) {
              this.observations.push({ atMs, node: n.id, role: null, leader: null, term: null, commitIndex: null });
              return;
            }
            const b = a.body as { self?: string; leader?: string | null; term?: number; commitIndex?: number; members?: Array<{ id: string; role?: string }> };
            const role = b.members?.find((m) => m.id === (b.self ?? n.id))?.role ?? (b.leader === n.id ? 'leader' : 'follower');
            this.observations.push({ atMs, node: n.id, role, leader: b.leader ?? null, term: b.term ?? null, commitIndex: b.commitIndex ?? null });
          }),
      );
    } finally {
      this.busy = false;
    }
  }

  /** The leader in the highest recent term, as a node itself reports. */
  currentLeader(): string | null {
    const since = this.nowMs() - LEADER_FRESH_MS;
    let best: LeaderObservation | null = null;
    for (let i = this.observations.length - 1; i >= 0 && this.observations[i].atMs >= since; i--) {
      const o = this.observations[i];
      if (o.role === 'leader' && (best === null || (o.term ?? 0) > (best.term ?? 0))) best = o;
    }
    return best?.node ?? null;
  }
}
