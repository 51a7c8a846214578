// A real lock server (createLockServer over the in-memory single-node twin)
// listening on 127.0.0.1, for SDK tests over real HTTP and SSE.
import pino from 'pino';
import { Registry } from 'prom-client';
import { createLockServer, type LockServer } from '../../src/server/index.js';
import { MemoryNode } from '../server/memory-node.js';

/** SDK tests take ports from this range (team rule: 19000-19999; the CLI tests use other ranges). */
const PORT_FIRST = 19_100;
const PORT_LAST = 19_199;

export interface LiveServer {
  url: string;
  node: MemoryNode;
  server: LockServer;
  close(): Promise<void>;
}

/** `authToken`: the root token; auth is on when given (createLockServer's option). */
export async function startLiveServer(opts: { authToken?: string } = {}): Promise<LiveServer> {
  const node = new MemoryNode();
  const server = await createLockServer({ node, dispatcher: node.dispatcher, registry: new Registry(), logger: pino({ level: 'silent' }), authToken: opts.authToken ?? null });
  const start = PORT_FIRST + Math.floor(Math.random() * (PORT_LAST - PORT_FIRST));
  for (let i = 0; i <= PORT_LAST - PORT_FIRST; i++) {
    const port = PORT_FIRST + ((start - PORT_FIRST + i) % (PORT_LAST - PORT_FIRST + 1));
    try {
      await server.listen('127.0.0.1', port);
      return { url: `http://127.0.0.1:${port}`, node, server, close: () => server.close() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`no free port in ${PORT_FIRST}-${PORT_LAST}`);
}
