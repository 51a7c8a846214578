// A leader and a follower harness over real sockets on 127.0.0.1: the
// follower's MemoryNode names the leader, so its writes and linearizable
// reads are forwarded like on a real cluster — over HTTP, or (channel 'peer')
// over a real peer channel between two TcpTransports, HTTP staying the fallback.

import { pino } from 'pino';
import type { ServerLimits } from '../../src/server/index.js';
import { nodeId } from '../../src/raft/types.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { type Harness, makeHarness } from './harness.js';
import { MemoryNode } from './memory-node.js';

/** Harnesses opened by leaderAndFollower(); the test file closes them in afterEach. */
export const open: Harness[] = [];

export type Channel = 'http' | 'peer';

export function listeningUrl(h: Harness): string {
  return `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
}

/** Two transports, n1 taking forwarded requests, n2 connected to it (its link's hello exchanged). */
export async function peerChannel(): Promise<{ leader: TcpTransport; follower: TcpTransport; close(): Promise<void> }> {
  const logger = pino({ level: 'silent' });
  const base = { clusterId: 'pair', apiUrl: 'http://127.0.0.1:1', logger, listen: '127.0.0.1:0' };
  const leader = new TcpTransport({ ...base, self: nodeId('n1'), peers: new Map([[nodeId('n2'), '127.0.0.1:1']]), forwarding: true });
  await leader.start();
  const follower = new TcpTransport({ ...base, self: nodeId('n2'), peers: new Map() });
  const connected = new Promise<void>((resolve) => follower.onPeerHello(() => resolve()));
  await follower.start();
  follower.setPeers(new Map([[nodeId('n1'), `127.0.0.1:${leader.port}`]]));
  await connected;
  return { leader, follower, close: async () => void (await Promise.all([leader.close(), follower.close()])) };
}

export async function leaderAndFollower(
  limits: Partial<ServerLimits> = {},
  authToken?: string,
  channel: Channel = 'http',
): Promise<{ leader: Harness; follower: Harness; leaderUrl: string; followerUrl: string }> {
  const peers = channel === 'peer' ? await peerChannel() : null;
  const leader = await makeHarness({ limits, authToken, ...(peers ? { peers: peers.leader } : {}) });
  open.push(leader);
  await leader.server.listen('127.0.0.1', 0);
  const leaderUrl = listeningUrl(leader);
  const node = new MemoryNode('n2');
  node.role = 'follower';
  node.leader = leader.node.id;
  node.leaderUrl = leaderUrl;
  const follower = await makeHarness({ node, limits, authToken, ...(peers ? { peers: peers.follower } : {}) });
  open.push(follower);
  await follower.server.listen('127.0.0.1', 0);
  if (peers) {
    const close = follower.close.bind(follower);
    follower.close = async () => {
      await close();
      await peers.close();
    };
  }
  return { leader, follower, leaderUrl, followerUrl: listeningUrl(follower) };
}
