// Noticing a node that hangs under a waiting request. A waiting acquire, lock
// set or campaign is answered once, when its wait ends: the server sends
// nothing before (src/server/answer.ts), so a node that hangs (SIGSTOP, a
// paused VM, a partition that drops packets) closes nothing and looks just
// like one whose queue is long, until waitMs plus requestTimeoutMs pass (up
// to 305 s). So while a node holds waits of this client, the client asks it
// GET /healthz (answered by the process itself, without a token or a leader)
// every intervalMs; a probe without an answer within timeoutMs means the node
// hangs, and its waits are ended, to be retried on another node with their
// Idempotency-Key (a repeat joins the wait the first left queued on the
// leader, or gets its recorded outcome).
//
// One probe per node for all of its waits, not one per wait: a thousand
// waiters on one node cost one GET per interval.

import type { Clock, TimerHandle } from './clock.js';

interface Watched {
  readonly onHung: Set<() => void>;
  timer: TimerHandle | null;
}

export class HangProbe {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** Calls onHung if `endpoint` stops answering its probe while watched; returns the call that stops watching. */
  watch(endpoint: string, onHung: () => void): () => void {
    let entry = this.watched.get(endpoint);
    if (entry === undefined) {
      entry = { onHung: new Set(), timer: null };
      this.watched.set(endpoint, entry);
      this.schedule(endpoint, entry);
    }
    const watched = entry;
    watched.onHung.add(onHung);
    return () => {
      watched.onHung.delete(onHung);
      if (watched.onHung.size > 0) return;
      watched.timer?.cancel();
      if (this.watched.get(endpoint) === watched) this.watched.delete(endpoint);
    };
  }

  private schedule(endpoint: string, entry: Watched): void {
    // Background: the waits it watches keep the process alive, not the probe.
    entry.timer = this.clock.setTimer(() => void this.probe(endpoint, entry), this.intervalMs, true);
  }

  private async probe(endpoint: string, entry: Watched): Promise<void> {
    const alive = await this.answers(endpoint);
    if (this.watched.get(endpoint) !== entry) return;
    if (!alive) for (const onHung of [...entry.onHung]) onHung();
    if (this.watched.get(endpoint) === entry) this.schedule(endpoint, entry);
  }

  /** Any HTTP answer, whatever its status, says the process runs. */
  private async answers(endpoint: string): Promise<boolean> {
    const controller = new AbortController();
    const timer = this.clock.setTimer(() => controller.abort(new Error('health probe timed out')), this.timeoutMs);
    try {
      const response = await this.fetch(`${endpoint}/healthz`, { method: 'GET', signal: controller.signal });
      await response.body?.cancel();
      return true;
    } catch {
      return false;
    } finally {
      timer.cancel();
    }
  }
}
