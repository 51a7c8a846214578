// Requests that fail before any route sees them (Conventions: "Every response
// carries x-lockstep-node"): a path the router cannot decode or an over-long
// parameter skips fastify's hooks; the server answers it under the same rules
// as every other answer.

import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from './harness.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('router-level errors carry x-lockstep-node', () => {
  it('a path that is not valid URL encoding, and an over-long name: 400 invalid_argument with the node header', async () => {
    h = await makeHarness();
    for (const url of ['/v1/locks/a%ZZ/acquire', `/v1/locks/${'a'.repeat(2_000)}/acquire`]) {
      const res = await h.call('POST', url, { ttlMs: 5_000 });
      expect(res.status, url.slice(0, 40)).toBe(400);
      expect(res.body.error.code).toBe('invalid_argument');
      expect(res.headers['x-lockstep-node'], url.slice(0, 40)).toBe(h.node.id);
    }
  });

  it('with auth on, a request without a valid token still learns nothing of the cluster from one', async () => {
    h = await makeHarness({ authToken: 'root-secret' });
    const anonymous = await h.call('POST', '/v1/locks/a%ZZ/acquire', { ttlMs: 5_000 });
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers['x-lockstep-node']).toBeUndefined();
    const root = await h.call('POST', '/v1/locks/a%ZZ/acquire', { ttlMs: 5_000 }, { authorization: 'Bearer root-secret' });
    expect(root.status).toBe(400);
    expect(root.headers['x-lockstep-node']).toBe(h.node.id);
  });
});
