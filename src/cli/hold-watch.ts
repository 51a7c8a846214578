// `lockstep lock` runs CMD while it holds its locks (cli.md: "if a hold is
// lost, CMD gets SIGTERM"), `lockstep elect` while it leads. The session's
// signal says when the session ends; but a hold can also end while its
// session lives on: whoever knows the fencing token (`lockstep locks` shows
// it) may release it, and whoever knows the term may resign. CMD then ran on
// without the lock (or as a leader that is none) while another got it. So
// the session is read back at its heartbeat rate, and a hold it no longer
// lists is a lost hold.
//
// One read per session whatever the number of locks (a set of 64 would take
// 64 watch streams, out of a token's quota), and a linearizable one: a
// lagging node cannot report a hold missing that was granted. Reading is a
// second line: a read that fails (no leader, a timeout) is tried again at
// the next beat, and the session still guards the hold.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, SessionInfo } from 'lockstep-client';

export interface WatchedHold {
  /** A lock hold (`lockstep lock`) or a leadership (`lockstep elect`, its term as the token). */
  kind: 'lock' | 'election';
  name: string;
  fencingToken: number;
}

/** Why the holds ended, or null while the session lists every one of them. */
export function lostHolds(holds: WatchedHold[], listed: SessionInfo['holds']): string | null {
  const has = (h: WatchedHold): boolean => (listed ?? []).some((l) => l.kind === h.kind && l.name === h.name && l.fencingToken === h.fencingToken);
  const gone = holds.filter((h) => !has(h));
  if (gone.length === 0) return null;
  if (gone[0].kind === 'election') return `leadership of '${gone[0].name}' (term ${gone[0].fencingToken}) was resigned by someone else (whoever has the term may resign it)`;
  const which = gone.map((h) => `'${h.name}' (token ${h.fencingToken})`).join(', ');
  return `the hold on ${which} was released by someone else (whoever has a fencing token may release its hold)`;
}

/**
 * Reads the session every `intervalMs`; `signal` aborts (its reason an Error saying which hold)
 * when a hold is gone. `stop()` before releasing them.
 */
export function watchHolds(client: Client, sessionId: string, holds: WatchedHold[], intervalMs: number): { signal: AbortSignal; stop(): void } {
  const lost = new AbortController();
  const stopped = new AbortController();
  void (async () => {
    for (;;) {
      await sleep(intervalMs, undefined, { signal: stopped.signal, ref: false });
      const info = await client.getSession(sessionId, { signal: stopped.signal }).catch(() => null);
      if (stopped.signal.aborted) return;
      // Not found: the session ended, which its own signal reports.
      const why = info === null ? null : lostHolds(holds, info.holds);
      if (why !== null) {
        lost.abort(new Error(why));
        return;
      }
    }
  })().catch(() => undefined);
  return { signal: lost.signal, stop: () => stopped.abort() };
}
