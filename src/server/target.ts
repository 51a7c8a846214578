// The request target as the router saw it, in origin form (`/path?query`).
//
// HTTP/1.1 lets a client send the absolute form (`POST http://host:port/path
// HTTP/1.1`, RFC 9112 §3.2.2) and servers must accept it; fastify's router
// routes it on its path, but `request.url` keeps the scheme and authority.
// Built into a forwarded request as a URL, that authority won: a follower
// relayed `POST http://127.0.0.1:18996/...` to that host, with the client's
// Authorization header (issue 11). Everything that reuses the target —
// forwarding, the idempotency record's path, the open-path check, logs —
// takes it from here, so the authority a client wrote is never used.

/** `scheme://authority` at the start of an absolute-form target (http and https only, as the router strips). */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * The origin form of a request target: the path (always starting with a
 * single `/` when it is used to build a URL on another host) and the query.
 * Mirrors find-my-way's getPathFromAbsoluteUrl, so this is the path the
 * route was matched on.
 */
export function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const match = ABSOLUTE_FORM.exec(url);
  if (match === null) return url;
  const rest = url.slice(match[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The path of the target, without the query. */
export function targetPath(url: string): string {
  const target = originForm(url);
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/**
 * The URL of the same request on another node: that node's origin followed
 * by this target's path and query. String concatenation after the origin
 * keeps even a path that begins with `//` in path position.
 */
export function urlOnNode(nodeApiUrl: string, url: string): URL {
  const target = originForm(url);
  if (!target.startsWith('/')) throw new Error(`request target ${JSON.stringify(url)} is not in origin or absolute form`);
  return new URL(new URL(nodeApiUrl).origin + target);
}
