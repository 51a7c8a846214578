// Maps every error, ours and fastify's, onto the one table in errors.ts.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, apiErrorBody } from './errors.js';

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body.ttlMs must be >= 1000": the field first, so that the message names it. */
export function describeValidation(context: string | undefined, item: ValidationItem): { field: string; message: string } {
  const path = (item.instancePath ?? '').split('/').filter((s) => s.length > 0);
  if (item.keyword === 'required' && typeof item.params?.missingProperty === 'string') path.push(item.params.missingProperty);
  if (item.keyword === 'additionalProperties' && typeof item.params?.additionalProperty === 'string') path.push(item.params.additionalProperty);
  const field = path.join('.');
  const where = [context ?? 'request', ...path].join('.');
  const what =
    item.keyword === 'required' ? 'is required'
    : item.keyword === 'additionalProperties' ? 'is not a field of this request (check its spelling)'
    : (item.message ?? 'is invalid');
  return { field: field.length > 0 ? field : (context ?? 'request'), message: `${where} ${what}` };
}

export function toApiError(error: FastifyError | ApiError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (Array.isArray(fe.validation) && fe.validation.length > 0) {
    // An unknown field first (a typo is what the user must fix; the field it
    // stands for then shows up as missing), else the first error ajv found.
    const items = fe.validation as ValidationItem[];
    const first = items.find((item) => item.keyword === 'additionalProperties') ?? items[0];
    const { field, message } = describeValidation(fe.validationContext, first);
    return new ApiError('invalid_argument', message, { field });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('payload_too_large');
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return new ApiError('invalid_argument', 'body is not valid JSON', { field: 'body' });
  }
  if (status === 404) return new ApiError('not_found');
  if (status >= 400 && status < 500) return new ApiError('invalid_argument', `request: ${fe.message}`, { field: 'request' });
  return new ApiError('internal');
}

export function sendApiError(request: FastifyRequest, reply: FastifyReply, error: FastifyError | ApiError | Error): FastifyReply {
  const apiError = toApiError(error);
  if (apiError.code === 'internal') request.log.error({ err: error }, 'internal error');
  for (const [name, value] of Object.entries(apiError.headers)) reply.header(name, value);
  return reply.code(apiError.status).type('application/json; charset=utf-8').send(apiErrorBody(apiError.code, apiError.message, apiError.details));
}
