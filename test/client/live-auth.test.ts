// The SDK against a live server with auth on: a token the server refuses
// (revoked, or a role that may not) ends what the SDK keeps going for it at
// once, instead of being retried as if the failure could pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../packages/client/src/client.js';
import { LeaseEndedError } from '../../packages/client/src/lease.js';
import { startLiveServer, type LiveServer } from './live-server.js';

const ROOT_TOKEN = 'live-auth-root';

let live: LiveServer;
let admin: Client;
beforeAll(async () => {
  live = await startLiveServer({ authToken: ROOT_TOKEN });
  admin = new Client({ endpoints: [live.url], token: ROOT_TOKEN });
});
afterAll(async () => {
  await live.close();
});

/** A client with a new token of `role`, and the token's id (to revoke it). */
async function clientWithNewToken(role: 'writer' | 'reader'): Promise<{ client: Client; tokenId: string }> {
  const token = await admin.createToken({ name: `live-auth-${role}`, role });
  return { client: new Client({ endpoints: [live.url], token: token.secret }), tokenId: token.id };
}

describe('SDK against a live server with auth on', () => {
  it('a session whose token is revoked ends as unauthorized at its next heartbeat, well before its TTL', async () => {
    const { client, tokenId } = await clientWithNewToken('writer');
    const ttlMs = 6000;
    const session = await client.session({ ttlMs });
    const startMs = performance.now();
    await admin.revokeToken(tokenId);
    // Heartbeats go every ttl/3: the first after the revocation is refused about 2 s in, not retried until 5.4 s.
    expect(await session.lost).toBe('unauthorized');
    expect(performance.now() - startMs).toBeLessThan(ttlMs * 2 / 3);
    expect((session.signal.reason as LeaseEndedError).cause).toMatchObject({ code: 'unauthorized', status: 401 });
    // Ending it does not delete it (the delete would be refused too): on the server it lasts until its TTL.
    expect((await admin.getSession(session.id)).sessionId).toBe(session.id);
    await admin.deleteSession(session.id);
  });

  it('an election whose token may not campaign stops: done rejects with forbidden', async () => {
    const { client } = await clientWithNewToken('reader');
    const errors: unknown[] = [];
    const election = client.elect('live-auth:reader', 'r', { onElected: () => undefined, onError: (err) => void errors.push(err) });
    await expect(election.done).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    expect(errors).toHaveLength(1);
    await election.close();
  });

  it('an election whose token is revoked while it leads demotes, then stops: done rejects with unauthorized', async () => {
    const { client, tokenId } = await clientWithNewToken('writer');
    const events: string[] = [];
    let elected: () => void = () => undefined;
    const gotElected = new Promise<void>((r) => (elected = r));
    const election = client.elect('live-auth:job', 'w', {
      sessionTtlMs: 3000,
      onElected: () => elected(),
      onDemoted: (reason) => void events.push(`demoted ${reason}`),
      onError: (err) => void events.push(`error ${(err as { code?: string }).code}`),
    });
    await gotElected;
    const sessionId = election.leadership!.session.id;
    await admin.revokeToken(tokenId);
    await expect(election.done).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    expect(events).toEqual(['demoted session_lost', 'error unauthorized']);
    await admin.deleteSession(sessionId);
  });

  it('observe and watchLock end with unauthorized when their token is revoked, instead of reconnecting for good', async () => {
    const { client, tokenId } = await clientWithNewToken('reader');
    let open = 0;
    let bothOpen: () => void = () => undefined;
    const opened = new Promise<void>((r) => (bothOpen = r));
    const first = () => void (++open === 2 && bothOpen());
    const observing = (async () => {
      for await (const _leader of client.observe('live-auth:observed')) first();
    })();
    const watching = (async () => {
      for await (const ev of client.watchLock('live-auth:watched')) if (ev.type === 'state') first();
    })();
    await opened;
    await admin.revokeToken(tokenId);
    // The server ends both streams with an `error` event; the SDK's reconnect is answered 401, which it does not retry.
    await expect(observing).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await expect(watching).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  });
});
