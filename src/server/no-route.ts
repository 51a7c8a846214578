// What "no route" is (http-api.md: 404 not_found, "unknown route"), in one place.
//
// - A path the router matched only through an empty path parameter is no route:
//   `GET /v1/locks/` reached `/v1/locks/:name` with name "" and was answered
//   400 "params.name must NOT have fewer than 1 characters", about a field the
//   client never sent. fastify keeps trailing slashes significant (its default
//   ignoreTrailingSlash: false; `GET /v1/cluster/` was already 404), so
//   `/v1/locks/` is not `/v1/locks` either: 404, with a message that points to
//   the list.
// - A known path asked with a method it does not answer (`PUT /v1/locks`) is
//   404 too, the table having no 405: its message says the method is not
//   supported there, and `Allow` lists the methods that are (as a 405 would;
//   RFC 9110 allows the header on any answer). docs/contract-notes.md proposes
//   a 405 row.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { targetPath } from './target.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Whether a named path parameter matched nothing (a wildcard's empty rest is a real match). */
export function emptyPathParam(params: unknown): boolean {
  return Object.entries((params ?? {}) as Record<string, unknown>).some(([name, value]) => name !== '*' && value === '');
}

/** The methods a route answers at `path`, in METHODS order. */
function allowedAt(app: FastifyInstance, path: string): string[] {
  return METHODS.filter((method) => {
    const found = app.findRoute({ method: method as 'GET', url: path });
    return found !== null && !emptyPathParam(found.params);
  });
}

/** The 404 for a request no route answers, and the Allow header when the path is known under other methods. */
export function noRoute(app: FastifyInstance, request: FastifyRequest): ApiError {
  const path = targetPath(request.url);
  const allowed = allowedAt(app, path);
  // Its own method among them: a route that found nothing there (a static file), not a wrong method.
  if (allowed.length > 0 && !allowed.includes(request.method)) {
    return new ApiError('not_found', `${request.method} is not supported on ${path}: it answers ${allowed.join(', ')}`, {}, { allow: allowed.join(', ') });
  }
  const up = path.replace(/\/+$/, '');
  const hint = up !== path && up !== '' && allowedAt(app, up).length > 0 ? ` (without the trailing slash: ${up})` : '';
  return new ApiError('not_found', `no route ${request.method} ${path}${hint}`);
}
