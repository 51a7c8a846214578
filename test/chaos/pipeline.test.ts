// The whole pipeline against a fake server with known bugs: the lock
// workload's clients record a history, and the checkers must find each bug
// (and pass the bug-free server). Real sockets on 127.0.0.1, no processes.
import { describe, expect, it } from 'vitest';
import { checkLinearizability } from '../../src/chaos/checker/index.js';
import { checkHolds } from '../../src/chaos/checker/holds.js';
import { earliestLeaseEnd } from '../../src/chaos/checker/clock-bound.js';
import { checkFencing } from '../../src/chaos/checker/fencing.js';
import { FencedRegister } from '../../src/chaos/cluster/fenced-register.js';
import type { OpRecord } from '../../src/chaos/history.js';
import { Prng } from '../../src/chaos/prng.js';
import { ChaosClient } from '../../src/chaos/workload/client.js';
import { lockClientLoop, lockReaderLoop } from '../../src/chaos/workload/locks.js';
import { startFakeLockServer, type Bug } from './fake-lock-server.js';

// Ports 21800-21819 are this file's.
let port = 21800;
const WORKLOAD_MS = 1500;

async function runAgainst(bug: Bug) {
  const t0 = performance.now();
  const nowMs = () => performance.now() - t0;
  const serverPort = port++;
  const stop = await startFakeLockServer(serverPort, bug);
  const register = new FencedRegister(port++, nowMs);
  await register.start();
  const history: OpRecord[] = [];
  let running = true;
  const env = { apiUrls: () => [{ node: 'fake', url: `http://127.0.0.1:${serverPort}` }], nowMs, record: (o: OpRecord) => history.push(o), running: () => running };
  const prng = new Prng(42);
  const opts = { locks: ['a', 'b'], ttlMs: 2000, holdMsMin: 5, holdMsMax: 40, registerUrl: register.url, opDeadlineMs: 2000, attemptTimeoutMs: 1000 };
  const loops = [
    ...[0, 1, 2, 3].map((i) => lockClientLoop(new ChaosClient(`c${i}`, 't', env, prng.fork()), opts, env.running, () => prng.next(), env.record, nowMs)),
    lockReaderLoop(new ChaosClient('r', 't', env, prng.fork()), opts, env.running, () => prng.next()),
  ];
  await new Promise((r) => setTimeout(r, WORKLOAD_MS));
  running = false;
  await Promise.all(loops);
  await stop();
  await register.close();
  const records = { history, faults: [], clocks: [], leaders: [], register: register.log, runEndMs: nowMs() };
  return {
    history,
    linearizability: checkLinearizability(records),
    fencing: checkFencing(history, register.log)[0],
    holds: checkHolds(history, [], earliestLeaseEnd([])),
  };
}

describe('workload and checkers against a fake server', () => {
  it('pass a correct server', async () => {
    const r = await runAgainst('none');
    expect(r.history.filter((o) => o.acquired).length).toBeGreaterThan(5);
    expect(r.linearizability.violations).toEqual([]);
    expect(r.fencing.violations).toEqual([]);
    expect(r.holds.flatMap((c) => c.violations)).toEqual([]);
  });

  it('find a server that grants a held lock (mutual exclusion)', async () => {
    const r = await runAgainst('double-grant');
    expect(r.linearizability.violations.length).toBeGreaterThan(0);
  });

  it('find a server that acknowledges a release and keeps the hold', async () => {
    const r = await runAgainst('lost-release');
    expect(r.linearizability.violations.length).toBeGreaterThan(0);
    expect(r.holds[1].violations.join()).toContain('acknowledged');
  });

  it('find a server that expires holds before their TTL', async () => {
    const r = await runAgainst('early-expiry');
    expect(r.linearizability.violations.length + r.holds[0].violations.length).toBeGreaterThan(0);
    expect(r.holds[0].violations.length).toBeGreaterThan(0);
  });
});
