// The audit log (http-api.md: "every 401, every 403 and every admin change
// is logged (token id and name, route, source address; never a secret)"):
// one structured line per such answer, from the node that answered it, on a
// child logger with `audit: true` so that it can be filtered out of the rest.
//
// A request a follower forwards is answered twice: by the leader (source: the
// follower, `forwardedBy` set) and by the follower (source: the client). Both
// lines are written; the header is not trusted to skip one, since a client
// could send it to hide its change.
//
// Never logged: the Authorization header, bodies, and the secret a token
// create answers with. Admin changes name their target from the route's
// params and, for a new token, its id, name, role and prefixes.

import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FORWARDED_HEADER } from './answer.js';
import { targetPath } from './target.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Details an admin route adds to its audit line (e.g. the token it created); never a secret. */
    auditDetails?: Record<string, unknown>;
  }
}

export type AuditEvent = 'unauthorized' | 'forbidden' | 'admin';

function eventOf(request: FastifyRequest, reply: FastifyReply): AuditEvent | null {
  if (reply.statusCode === 401) return 'unauthorized';
  if (reply.statusCode === 403) return 'forbidden';
  if (request.routeOptions.config?.audit !== undefined) return 'admin';
  return null;
}

export function installAudit(app: FastifyInstance, logger: FastifyBaseLogger): void {
  const audit = logger.child({ audit: true });
  app.addHook('onResponse', async (request, reply) => {
    const event = eventOf(request, reply);
    if (event === null) return;
    const principal = request.principal;
    const forwardedBy = request.headers[FORWARDED_HEADER];
    audit.info(
      {
        event,
        action: request.routeOptions.config?.audit,
        tokenId: principal?.id ?? null,
        tokenName: principal?.name ?? null,
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: targetPath(request.url),
        params: request.params,
        status: reply.statusCode,
        source: request.ip,
        ...(typeof forwardedBy === 'string' ? { forwardedBy } : {}),
        ...(request.auditDetails ?? {}),
      },
      `audit ${event}`,
    );
  });
}
