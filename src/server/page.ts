// Page-size parsing for list endpoints (`?limit=` arrives as a digit string: no coercion).

import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';

/**
 * `limit` is the most items the client wants on a page. The contract gives it
 * no upper bound, so a larger one is not an error: like etcd's range limit or
 * Kubernetes' list `limit`, the server may answer fewer (at most
 * pageSizeMax) and sets `next` when more remain.
 */
export function pageSize(ctx: ServerContext, raw: string | undefined): number {
  if (raw === undefined) return ctx.limits.pageSizeDefault;
  // The route's schema lets only digits through; so many of them that Number() says Infinity
  // is still just a large limit.
  const n = Number(raw);
  if (!(Number.isInteger(n) || n === Infinity) || n < 1) {
    throw new ApiError('invalid_argument', 'querystring.limit must be a positive integer', { field: 'limit' });
  }
  return Math.min(n, ctx.limits.pageSizeMax);
}
