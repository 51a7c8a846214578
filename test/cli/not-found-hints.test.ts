// A 404 not_found names what was asked for ("no token ID", "no member ID"); the
// CLI's next step must point at where the ids of that kind are listed. It said
// "see `lockstep status` for the member ids, `lockstep token list` for the token
// ids" after any of them, so `token revoke` with a mistyped id sent a newcomer to
// the member list (found on the README walk-through).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from './fake-api.js';
import { cliTestTimeout, runCli } from './run-cli.js';

describe('not_found says where the ids of its kind are listed', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('token revoke: the token list, not the members', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['token', 'revoke', '3f2a9c0d1e4b5a67', '--endpoints', api.url]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^lockstep: not_found: .*; see `lockstep token list` for the token ids\n$/);
    expect(r.stderr).not.toMatch(/member/);
  });

  it('members remove: the members in status, not the tokens', { timeout: cliTestTimeout(1) }, async () => {
    const r = await runCli(['members', 'remove', 'n9', '--endpoints', api.url]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^lockstep: not_found: .*; see `lockstep status` for the member ids\n$/);
    expect(r.stderr).not.toMatch(/token/);
  });
});
