// Workload 2: leader election with observers. Candidates keep a session
// alive, campaign (waiting in line), lead for a while, and resign;
// observers read the election's leader. Each election is checked with the
// lock model: campaign is an acquire whose token is the term, resign a
// release, a read shows the current term.
import type { ChaosClient, OpSpec } from './client.js';
import { deleteSessionSpec, getSessionSpec, keepaliveSpec, openSession, type OpTiming } from './sessions.js';

export interface ElectionsWorkloadOptions extends OpTiming {
  elections: string[];
  sessionTtlMs: number;
  keepaliveEveryMs: number;
  leadMsMin: number;
  leadMsMax: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Elections share the history with locks; their records are named apart. */
export const electionKey = (name: string) => `election/${name}`;

function campaignSpec(name: string, sessionId: string, value: string, waitMs: number, o: OpTiming): OpSpec {
  return {
    op: 'campaign',
    lock: electionKey(name),
    method: 'POST',
    path: `/v1/elections/${encodeURIComponent(name)}/campaign`,
    body: { sessionId, value, waitMs },
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: waitMs + o.attemptTimeoutMs,
    extra: { sessionId },
    interpret: (b: { elected?: boolean; term?: number; leader?: { term?: number } | null }) =>
      b.elected ? { acquired: true, fencingToken: b.term } : { acquired: false, holders: typeof b.leader?.term === 'number' ? [b.leader.term] : [] },
  };
}

function resignSpec(name: string, term: number, o: OpTiming): OpSpec {
  return {
    op: 'resign',
    lock: electionKey(name),
    method: 'POST',
    path: `/v1/elections/${encodeURIComponent(name)}/resign`,
    body: { term },
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: o.attemptTimeoutMs,
    extra: { fencingToken: term },
  };
}

function observeSpec(name: string, o: OpTiming): OpSpec {
  return {
    op: 'read',
    lock: electionKey(name),
    method: 'GET',
    path: `/v1/elections/${encodeURIComponent(name)}`,
    deadlineMs: o.opDeadlineMs,
    attemptTimeoutMs: o.attemptTimeoutMs,
    idempotent: true,
    interpret: (b: { leader?: { term?: number } | null }) => ({ holders: typeof b.leader?.term === 'number' ? [b.leader.term] : [] }),
  };
}

export async function candidateLoop(client: ChaosClient, o: ElectionsWorkloadOptions, running: () => boolean, rand: () => number): Promise<void> {
  while (running()) {
    const sessionId = await openSession(client, o.sessionTtlMs, o);
    if (!sessionId) {
      await sleep(300);
      continue;
    }
    let alive = true;
    const keepalive = (async () => {
      while (alive && running()) {
        await sleep(o.keepaliveEveryMs);
        if (!alive) break;
        const { record } = await client.run(keepaliveSpec(sessionId, o));
        if (record.error === 'session_not_found') alive = false;
      }
    })();
    const name = o.elections[Math.floor(rand() * o.elections.length)];
    for (let round = 0; alive && running() && round < 5; round++) {
      const { record } = await client.run(campaignSpec(name, sessionId, client.name, Math.floor(500 + rand() * 1500), o));
      if (record.error === 'session_not_found') alive = false;
      if (record.result === 'ok' && record.acquired && record.fencingToken !== undefined) {
        await sleep(o.leadMsMin + rand() * (o.leadMsMax - o.leadMsMin));
        await client.run(resignSpec(name, record.fencingToken, o));
      }
      await sleep(50 + rand() * 200);
    }
    alive = false;
    await keepalive;
    // Half the sessions are deleted, half left to expire. A deleted session
    // is looked up again later: an acknowledged delete must stay done (lost-ack).
    if (rand() < 0.5) {
      const { record } = await client.run(deleteSessionSpec(sessionId, o));
      if (record.result === 'ok') {
        await sleep(100 + rand() * 1000);
        await client.run(getSessionSpec(sessionId, o));
      }
    }
  }
}

export async function observerLoop(client: ChaosClient, o: ElectionsWorkloadOptions, running: () => boolean, rand: () => number): Promise<void> {
  while (running()) {
    await client.run(observeSpec(o.elections[Math.floor(rand() * o.elections.length)], o));
    await sleep(150 + rand() * 300);
  }
}
