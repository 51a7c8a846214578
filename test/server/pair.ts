// A leader and a follower harness over real sockets on 127.0.0.1: the
// follower's MemoryNode names the leader, so its writes and linearizable
// reads are forwarded over HTTP like on a real cluster.

import type { ServerLimits } from '../../src/server/index.js';
import { type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';

/** Harnesses opened by leaderAndFollower(); the test file closes them in afterEach. */
export const open: Harness[] = [];

export function listeningUrl(h: Harness): string {
  return `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
}

export async function leaderAndFollower(
  limits: Partial<ServerLimits> = {},
  authToken?: string,
): Promise<{ leader: Harness; follower: Harness; leaderUrl: string; followerUrl: string }> {
  const leader = await makeHarness({ limits, authToken });
  open.push(leader);
  await leader.server.listen('127.0.0.1', 0);
  const leaderUrl = listeningUrl(leader);
  const node = new MemoryNode('n2');
  node.role = 'follower';
  node.leader = leader.node.id;
  node.leaderUrl = leaderUrl;
  const follower = await makeHarness({ node, limits, authToken });
  open.push(follower);
  await follower.server.listen('127.0.0.1', 0);
  return { leader, follower, leaderUrl, followerUrl: listeningUrl(follower) };
}
