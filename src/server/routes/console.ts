// The operator console (http-api.md "Operator console"): GET /ui/ serves the
// page and its modules from the package's console/ folder (no CDN, no build
// step: plain ES modules), GET /ui/events its live feed (console-stream.ts).
// The page and its files need no token — a browser cannot send one when it
// opens a page, and they hold no cluster state; the page asks for the token
// and sends it with every API call and with the feed.

import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ConsoleStreams, CONSOLE_TICK_MS } from '../console-stream.js';
import { errorResponses } from '../schemas.js';
import { LeaderHistory } from '../leader-history.js';

export const CONSOLE_PREFIX = '/ui/';
export const CONSOLE_CSP = "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";
/** The console's files: console/ at the package root (the same from src/ under tsx and from dist/). */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../../console/', import.meta.url));

export const consoleRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const history = new LeaderHistory();
  const streams = new ConsoleStreams(ctx, history);
  // The leader timeline covers the node's life, not only while a console is open.
  const watcher = ctx.clock.setRepeating(() => {
    const status = ctx.node.status();
    history.observe(ctx.clock.wallMs(), status.term as number, status.leader as string | null);
  }, CONSOLE_TICK_MS);
  app.addHook('onClose', async () => {
    watcher.cancel();
  });
  // Before the server waits for the requests in flight: an open console is one of them, for good.
  app.addHook('preClose', (done) => {
    streams.closeAll();
    done();
  });

  // Routes of this plugin that declare no access are the console's files: open.
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) route.config = { ...route.config, access: { kind: 'open' } };
  });

  app.get('/ui/events', {
    config: { access: { kind: 'any' } },
    schema: {
      tags: ['console'],
      summary: 'The operator console\'s live feed: text/event-stream of `cluster` events (this node\'s cluster view, each member\'s own view, the leaders and terms seen), sent when something changed.',
      response: errorResponses,
    },
  }, async (request, reply) => streams.serve(request, reply));

  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect(CONSOLE_PREFIX, 301));

  await app.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: CONSOLE_PREFIX,
    decorateReply: false,
    index: ['index.html'],
    // The files change only with the package; revalidate so an upgrade is seen at once.
    cacheControl: true,
    maxAge: 0,
    etag: true,
    // Everything from this node; no inline script or style attribute (the page sets styles through the CSSOM).
    setHeaders: (reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
    },
  });
};
