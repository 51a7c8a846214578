// Page-size parsing for list endpoints (`?limit=` arrives as a digit string: no coercion).

import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';

export function pageSize(ctx: ServerContext, raw: string | undefined): number {
  if (raw === undefined) return ctx.limits.pageSizeDefault;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > ctx.limits.pageSizeMax) {
    throw new ApiError('invalid_argument', `querystring.limit must be an integer in 1..${ctx.limits.pageSizeMax}`, { field: 'limit' });
  }
  return n;
}
