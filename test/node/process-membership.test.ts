// Membership through the API with real processes: a node started as a joiner
// (its --peers lists the existing voters, not itself) is added as a learner,
// catches up, becomes a voter; another member is removed.
import { afterEach, describe, expect, it } from 'vitest';
import { procCluster, missingSessions, PROC_TEST_MS, sessionStream, untilAcked } from './support/proc-cluster.js';
import type { LocalCluster } from '../../src/harness/local-cluster.js';

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

describe('lockstep serve: membership (real processes)', () => {
  it('adds a joiner as a voter through POST /v1/cluster/members and removes a member', async () => {
    const c = (cluster = procCluster(4, 17700));
    const founders = ['n1', 'n2', 'n3'];
    for (const id of founders) c.start(id, founders);
    await c.waitAnswering();
    await c.waitForLeader();
    const stream = sessionStream(() => founders.map((id) => c.url(id)), 4);
    await untilAcked(stream, 50);
    await stream.stop();

    c.start('n4', founders); // a joiner: not in its own --peers
    await c.waitAnswering(); // as an operator would: the joiner is up before it is added
    // 503 when the joiner's catch-up outlasts the change's bound (a loaded machine): asked again
    // with the same id and addresses, the change finishes the first (as a client retries), bounded.
    let add: Response | null = null;
    for (let attempt = 0; attempt < 5 && (add === null || add.status === 503); attempt++) {
      add = await fetch(`${c.url('n1')}/v1/cluster/members`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'n4', apiUrl: c.url('n4'), peerUrl: `http://127.0.0.1:${c.node('n4').peerPort}` }),
      });
    }
    expect(add!.status, await add!.clone().text()).toBe(200);
    const leader = await c.waitForLeader();
    const view = await c.view(leader);
    expect(view!.members.find((m) => m.id === 'n4')).toMatchObject({ id: 'n4', voter: true });
    const target = Math.max(...stream.acked.map((a) => a.index));
    await c.waitApplied('n4', target);
    expect(await missingSessions(c.url('n4'), stream.acked)).toEqual([]);
    const n4view = await c.view('n4');
    expect(n4view!.leader).toBe(leader);

    const victim = founders.find((id) => id !== leader)!;
    const del = await fetch(`${c.url(leader)}/v1/cluster/members/${victim}`, { method: 'DELETE' });
    expect(del.status, await del.clone().text()).toBe(200);
    const after = await c.view(leader);
    expect(after!.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3', 'n4'].filter((id) => id !== victim).sort());

    // The removed node, still running, is told so by the members it dials (its campaigns reach them
    // on connections it opened while a member), and says so at error. Before, it ran on as a
    // pre-candidate for ever with nothing in its log.
    const removedLine = (line: string): boolean => /"level":50/.test(line) && /this node was removed from the cluster/.test(line);
    await expect
      .poll(() => c.node(victim).process.output.join('').split('\n').some(removedLine), { timeout: 20_000, interval: 100 })
      .toBe(true);
    const survivors = ['n1', 'n2', 'n3', 'n4'].filter((id) => id !== victim);
    // Its API says so too, so that clients move on to another member.
    const ready = await fetch(`${c.url(victim)}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ error: { code: 'no_leader', message: expect.stringMatching(/removed from the cluster/) } });
    expect(survivors.some((id) => c.node(id).process.output.join('').includes(`node ${victim} was removed from this cluster`))).toBe(true);
    // Node ids are forever: the removed id cannot be added back (a new id can).
    const readd = await fetch(`${c.url(leader)}/v1/cluster/members`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: victim, apiUrl: c.url(victim), peerUrl: `127.0.0.1:${c.node(victim).peerPort}` }),
    });
    expect(readd.status).toBe(400);
    expect(await readd.json()).toMatchObject({ error: { code: 'invalid_argument', message: expect.stringMatching(/removed from this cluster, and a node id is never reused/) } });
    // The members carry on under the same leader.
    for (const id of survivors) expect((await c.view(id))!.leader).toBe(leader);
  }, PROC_TEST_MS);
});
