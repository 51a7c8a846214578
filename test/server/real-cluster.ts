// Real 3-node clusters of `lockstep serve` processes on 127.0.0.1 for the HTTP
// black-box tests (src/harness/local-cluster.ts, the CLI from source under tsx
// so that it never tests a stale build), in ports 18000-18999, a block of
// PORT_BLOCK per cluster; and one JSON request helper.

import type { LocalCluster, LocalNode } from '../../src/harness/local-cluster.js';
import { sourceCluster } from '../node/support/proc-cluster.js';

export { CLUSTER_START_MS } from '../node/support/proc-cluster.js';

/**
 * Ports one cluster takes from its base: API base+1.., peer base+11... Blocks
 * of this size never overlap (peer ports at base+100 did: one file's peer
 * ports were another's API ports whenever their bases were 100 apart).
 */
export const PORT_BLOCK = 20;
const PEER_OFFSET = 10;

export interface ClusterOptions {
  /** Auth on: the root token, handed to every node in a 0600 file (serve --auth-token-file). */
  authToken?: string;
  /** TLS on (LocalClusterOptions.tls): request the nodes with the cluster's `fetch`. */
  tls?: boolean;
}

/** Node i (1-based) gets API port base+i and peer port base+10+i; resolves once a leader is agreed and every node is ready (CLUSTER_START_MS). */
export async function startCluster(basePort: number, size = 3, options: ClusterOptions = {}): Promise<LocalCluster> {
  if (size >= PEER_OFFSET) throw new Error(`at most ${PEER_OFFSET - 1} nodes per port block`);
  if (basePort < 18000 || basePort + PORT_BLOCK > 18999) throw new Error(`base port ${basePort} outside 18000-18999`);
  return sourceCluster(size, basePort, { peerPortOffset: PEER_OFFSET, authToken: options.authToken, tls: options.tls });
}

export interface Res {
  status: number;
  body: any;
  headers: Headers;
}

/** One JSON request to a node; the body parsed when it is JSON (metrics and SSE are text). */
export async function api(node: Pick<LocalNode, 'url'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal, through: typeof fetch = fetch): Promise<Res> {
  const res = await through(`${node.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
