// Tokens in the replicated state (src/locks/tokens.ts): created with a hash,
// never a secret; a revocation takes effect at its index on every replica —
// later commands of that token are refused, its queued waits answer 401 and
// leave their queues; deleting a session needs the right on its names.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LockCommand } from '../../src/locks/commands.js';
import { decodeValue, encodeValue } from '../../src/locks/codec.js';
import { LockMachine } from '../../src/locks/machine.js';
import { TOKENS_MAX } from '../../src/locks/limits.js';
import { logIndex } from '../../src/raft/types.js';
import { errorCode, Harness, outcomeOf, resolved } from './harness.js';

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

function createCmd(id: string, role: 'admin' | 'writer' | 'reader', prefixes: string[] = [], secret = `secret-${id}`): LockCommand {
  return { type: 'token.create', id, name: `name-${id}`, role, prefixes, secretHash: hash(secret) };
}

const T1 = '00000000000000a1';
const T2 = '00000000000000b2';

describe('tokens in the lock machine', () => {
  it('create stores the hash and answers the token without it; lookup is by hash; list in creation order', () => {
    const h = new Harness();
    const out = h.done(createCmd(T1, 'writer', ['a:']));
    expect(out).toEqual({ status: 201, body: { id: T1, name: `name-${T1}`, role: 'writer', prefixes: ['a:'] } });
    h.done(createCmd(T2, 'reader'));
    expect(h.machine.principalByHash(hash(`secret-${T1}`))).toEqual({ id: T1, name: `name-${T1}`, role: 'writer', prefixes: ['a:'] });
    expect(h.machine.principalByHash(hash('nope'))).toBeNull();
    expect(h.machine.listTokens().map((t) => t.id)).toEqual([T1, T2]);
    expect(JSON.stringify(h.machine.listTokens())).not.toContain(hash(`secret-${T1}`));
  });

  it('refuses a clashing id or secret, an admin with prefixes, bad prefixes, and more than TOKENS_MAX', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer'));
    expect(errorCode(h.done(createCmd(T1, 'reader', [], 'other')))).toBe('invalid_argument');
    expect(errorCode(h.done(createCmd(T2, 'reader', [], `secret-${T1}`)))).toBe('invalid_argument');
    expect(errorCode(h.done(createCmd(T2, 'admin', ['a:'])))).toBe('invalid_argument');
    expect(errorCode(h.done(createCmd(T2, 'writer', ['-bad'])))).toBe('invalid_argument');
    expect(errorCode(h.done({ ...createCmd(T2, 'writer'), secretHash: 'plain-secret' } as LockCommand))).toBe('invalid_argument');
    const full = new Harness();
    for (let i = 0; i < TOKENS_MAX; i++) full.done(createCmd(i.toString(16).padStart(16, '0'), 'reader'));
    expect(errorCode(full.done(createCmd('ffffffffffffffff', 'reader')))).toBe('limit_exceeded');
  });

  it('a command of a revoked token is refused with 401 when applied, and changes nothing; root and auth-off commands are never refused', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer'));
    h.actingAs = T1;
    expect(outcomeOf(h.acquire('a').result).status).toBe(200);
    h.actingAs = 'root';
    expect(h.done({ type: 'token.revoke', id: T1 })).toEqual({ status: 200, body: { revoked: true } });
    h.actingAs = T1;
    const refused = h.run({ type: 'session.create', sessionId: 's1', ttlMs: 10_000, name: '', lockDelayMs: 0 }, { key: 'k', method: 'POST', path: '/v1/sessions' });
    expect(errorCode(outcomeOf(refused.result))).toBe('unauthorized');
    expect(outcomeOf(refused.result).status).toBe(401);
    expect(refused.events).toEqual([]);
    expect(h.machine.getSession('s1')).toBeNull();
    // Not recorded under its key: the key is free for a valid token.
    expect(h.machine.lookupIdempotency('k', 'POST', '/v1/sessions')).toEqual({ kind: 'miss' });
    h.actingAs = 'root';
    expect(h.done({ type: 'session.create', sessionId: 's1', ttlMs: 10_000, name: '', lockDelayMs: 0 }).status).toBe(201);
    h.actingAs = null;
    expect(h.done({ type: 'session.create', sessionId: 's2', ttlMs: 10_000, name: '', lockDelayMs: 0 }).status).toBe(201);
    expect(errorCode(h.done({ type: 'token.revoke', id: T1 }))).toBe('not_found');
  });

  it('revoking a token ends its queued waits with 401 in the same command; waiters behind move up; other tokens\' waits stay', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer'));
    h.done(createCmd(T2, 'writer'));
    h.actingAs = T2;
    const holder = h.hold('a', { mode: 'exclusive' });
    h.actingAs = T1;
    const mine = h.wait('a', { mode: 'exclusive' });
    const campaign = h.run({ type: 'election.campaign', name: 'e', sessionId: 'none', value: 'v', waitMs: 0, waitId: null });
    expect(errorCode(outcomeOf(campaign.result))).toBe('session_not_found');
    h.actingAs = T2;
    const theirs = h.wait('a', { mode: 'shared' });
    h.actingAs = 'root';
    const { events } = h.run({ type: 'token.revoke', id: T1 });
    expect(resolved(events, mine)).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: expect.any(String) } } });
    expect(resolved(events, theirs)).toBeUndefined();
    expect(events).toContainEqual({ type: 'token.revoked', index: h.index, tokenId: T1 });
    expect(h.machine.getLock('a').waiters).toHaveLength(1);
    expect(h.machine.allWaits().map((w) => w.waitId)).toEqual([theirs]);
    // The shared waiter that was behind T1's exclusive one is now first in line: released, it is granted.
    const after = h.release('a', holder);
    expect(outcomeOf({ kind: 'done', outcome: resolved(after.events, theirs)! }).body).toMatchObject({ acquired: true, mode: 'shared' });
  });

  it('deleting a session needs the right on every name it holds, leads or waits for (403 with the names; nothing released)', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer', ['a:']));
    h.actingAs = 'root';
    h.session('s1');
    h.hold('a:1', { sessionId: 's1' });
    h.hold('b:1', { sessionId: 's1' });
    h.done({ type: 'election.campaign', name: 'c:e', sessionId: 's1', value: 'v', waitMs: 0, waitId: null });
    h.actingAs = T1;
    const refused = h.done({ type: 'session.delete', sessionId: 's1' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'forbidden', names: ['b:1', 'c:e'] } });
    expect(h.machine.getSession('s1')?.holds).toHaveLength(3);
    h.actingAs = 'root';
    h.session('s2');
    h.hold('a:2', { sessionId: 's2' });
    h.actingAs = T1;
    expect(h.done({ type: 'session.delete', sessionId: 's2' }).status).toBe(200);
  });

  it('sessions remember their creator; a token with prefixes lists its own and those on its names, with only its names shown', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer', ['a:']));
    h.done(createCmd(T2, 'reader', ['b:']));
    h.actingAs = T1;
    h.session('mine');
    h.actingAs = 'root';
    h.session('other');
    h.session('onb');
    h.hold('b:1', { sessionId: 'onb' });
    h.hold('z:1', { sessionId: 'onb' });
    const t1 = h.machine.principalByHash(hash(`secret-${T1}`))!;
    const t2 = h.machine.principalByHash(hash(`secret-${T2}`))!;
    expect(h.machine.listSessions(100, undefined, undefined, t1).sessions.map((s) => s.sessionId)).toEqual(['mine']);
    const seenByT2 = h.machine.listSessions(100, undefined, undefined, t2).sessions;
    expect(seenByT2.map((s) => s.sessionId)).toEqual(['onb']);
    expect(seenByT2[0].holds.map((x) => x.name)).toEqual(['b:1']);
    expect(h.machine.listSessions().sessions).toHaveLength(3);
  });

  it('snapshots keep tokens, creators and wait tokens; a version 1 snapshot (before tokens) still restores', () => {
    const h = new Harness();
    h.done(createCmd(T1, 'writer', ['a:']));
    h.actingAs = T1;
    h.session('s1');
    h.hold('a:1', { sessionId: 's1' });
    h.wait('a:1');
    const copy = new LockMachine();
    copy.restore(h.machine.snapshot(), logIndex(h.index));
    expect(copy.snapshot()).toEqual(h.machine.snapshot());
    expect(copy.principalByHash(hash(`secret-${T1}`))?.id).toBe(T1);
    // Revoking on the copy ends the wait there too.
    const out = copy.applyProposal(h.index + 1, { command: { type: 'token.revoke', id: T1 }, nowMs: h.nowMs, idempotency: null, auth: null });
    expect(out.events.some((e) => e.type === 'wait.resolved' && e.outcome.status === 401)).toBe(true);

    const v1 = decodeValue(h.machine.snapshot()) as Record<string, unknown> & { sessions: Array<Record<string, unknown>>; waits: Array<[string, Record<string, unknown>]> };
    v1.version = 1;
    delete v1.tokens;
    for (const s of v1.sessions) delete s.createdBy;
    for (const [, ref] of v1.waits) delete ref.tokenId;
    const old = new LockMachine();
    old.restore(encodeValue(v1), logIndex(h.index));
    expect(old.listTokens()).toEqual([]);
    expect(old.getSession('s1')?.holds).toHaveLength(1);
  });

  it('a proposal whose auth is not {tokenId} is refused as a bad entry on every replica', () => {
    const m = new LockMachine();
    const out = m.applyProposal(1, { command: { type: 'session.create', sessionId: 's', ttlMs: 1_000, name: '', lockDelayMs: 0 }, nowMs: 0, idempotency: null, auth: { tokenId: 42 } as unknown as { tokenId: string } });
    expect(errorCode(outcomeOf(out.result))).toBe('invalid_argument');
  });
});
