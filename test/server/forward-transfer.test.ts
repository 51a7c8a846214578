// Chaos finding F3 (src/chaos/FINDINGS.md): during a leadership transfer (or
// while the leader is being removed) the Raft core drops proposals and the node
// answers NotLeaderError although it still leads. leaderOnly then saw "self"
// as the leader again and retried at once: a loop of microtasks only, so no
// timer, tick or socket ever ran again. The transfer could never complete or
// time out (both need ticks and messages) and the leader went silent for good.

import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/node/api.js';
import type { LogIndex } from '../../src/raft/types.js';
import { type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';

/** Attempts after which the test node reports a spin instead of looping forever. */
const SPIN_ATTEMPTS_MAX = 10_000;

/** A leader that drops proposals, as a Raft leader does while it hands leadership over. */
class TransferringNode extends MemoryNode {
  transferring = false;
  dropped = 0;
  /** Called on each dropped proposal. */
  onDrop: () => void = () => undefined;

  override async propose(data: Uint8Array, timeoutMs: number): Promise<{ index: LogIndex; result: unknown }> {
    if (this.role === 'leader' && this.transferring) {
      this.dropped += 1;
      this.onDrop();
      if (this.dropped > SPIN_ATTEMPTS_MAX) throw new Error('leaderOnly retried without ever yielding to the event loop');
      // What RaftNode.translate makes of ProposalDroppedError: still the leader, so it names itself.
      throw new NotLeaderError(this.id);
    }
    return super.propose(data, timeoutMs);
  }
}

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('requests to a leader that is handing leadership over (F3)', () => {
  it('wait on timers, not microtasks, and succeed once the transfer is aborted', async () => {
    const node = new TransferringNode();
    h = await makeHarness({ node, limits: { leaderWaitMs: 5_000 } });
    node.transferring = true;
    // The transfer ends (aborted after an election timeout) on a later turn of
    // the event loop than the first dropped proposal: a retry loop of
    // microtasks never lets this timer run. (A wall-clock timer set before the
    // request could fire before the request arrived on a loaded machine.)
    node.onDrop = () => {
      node.onDrop = () => undefined;
      setTimeout(() => {
        node.transferring = false;
      }, 0);
    };
    const res = await h.callAdvancing('POST', '/v1/sessions', {});
    expect(res.status).toBe(201);
    expect(node.dropped).toBeGreaterThan(0);
    expect(node.dropped).toBeLessThan(SPIN_ATTEMPTS_MAX);
  });

  it('answer 503 no_leader once leaderWaitMs is over if the transfer never ends', async () => {
    const node = new TransferringNode();
    h = await makeHarness({ node, limits: { leaderWaitMs: 100 } });
    node.transferring = true;
    // The wait is on the server's (manual) clock; a turn of the event loop must still come round meanwhile.
    let timerRan = false;
    setImmediate(() => {
      timerRan = true;
    });
    const res = await h.callAdvancing('POST', '/v1/sessions', {});
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_leader');
    expect(res.headers['retry-after']).toBeDefined();
    expect(timerRan).toBe(true);
  });
});
