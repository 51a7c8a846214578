// Optional bearer-token auth: the contract's 401 unauthorized.
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('auth (serve --auth-token)', () => {
  it('refuses a missing or wrong bearer token with 401 unauthorized and changes nothing', async () => {
    h = await makeHarness({ authToken: 's3cret' });
    const missing = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5000 });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    const wrong = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5000 }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const state = await h.call('GET', '/v1/locks/a', undefined, { authorization: 'Bearer s3cret' });
    expect(state.status).toBe(200);
    expect(state.body.holders).toEqual([]);
  });

  it('serves a request with the right token, and leaves the health probes open', async () => {
    h = await makeHarness({ authToken: 's3cret' });
    const ok = await h.call('POST', '/v1/locks/a/acquire', { ttlMs: 5000 }, { authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.body.acquired).toBe(true);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    expect((await h.call('GET', '/v1/cluster')).status).toBe(401);
  });

  it('is off by default', async () => {
    h = await makeHarness();
    expect((await h.call('GET', '/v1/cluster')).status).toBe(200);
  });
});
