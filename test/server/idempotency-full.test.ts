// Issue 11: the idempotency table keeps every record its full 10 minutes; a
// full table refuses new keys with 429 limit_exceeded, without a log entry.

import { afterEach, describe, expect, it } from 'vitest';
import { LockMachine } from '../../src/locks/machine.js';
import { makeHarness, type Harness } from './harness.js';
import { MemoryNode } from './memory-node.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('a full idempotency table', () => {
  it('refuses a new key with 429 limit_exceeded before proposing; old keys replay; unkeyed writes go on', async () => {
    h = await makeHarness({ node: new MemoryNode('n1', new LockMachine({ idempotencyRecordsMax: 2 })) });
    const a = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k1' });
    expect(a.status).toBe(200);
    expect((await h.call('POST', '/v1/locks/b/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k2' })).status).toBe(200);
    const proposed = h.node.proposals.length;

    const refused = await h.call('POST', '/v1/locks/c/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k3' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('limit_exceeded');
    expect(refused.headers['x-lockstep-index']).toBe(String(proposed));
    expect(h.node.proposals).toHaveLength(proposed);

    const replay = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5_000 }, { 'idempotency-key': 'k1' });
    expect(replay.body.fencingToken).toBe(a.body.fencingToken);
    expect(h.node.proposals).toHaveLength(proposed);

    expect((await h.call('POST', '/v1/locks/c/acquire', { ttlMs: 5_000 })).status).toBe(200);
  });
});
