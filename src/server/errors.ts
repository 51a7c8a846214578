// The API's errors as this server answers them: the codes, statuses and
// default messages are the one table in the client package (SERVER_ERRORS,
// http-api.md "Errors"). Every non-2xx answer of this server,
// including fastify's own validation, parse, size and not-found errors, goes
// through apiErrorBody().
import { SERVER_ERRORS, type ServerErrorCode } from 'lockstep-client';

export interface ApiErrorBody {
  error: { code: ServerErrorCode; message: string; [detail: string]: unknown };
}

/** Thrown by handlers and services; the error handler turns it into the answer. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ServerErrorCode,
    message?: string,
    readonly details: Record<string, unknown> = {},
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? SERVER_ERRORS[code].message);
    this.status = SERVER_ERRORS[code].status;
  }

  body(): ApiErrorBody {
    return apiErrorBody(this.code, this.message, this.details);
  }
}

export function apiErrorBody(code: ServerErrorCode, message?: string, details: Record<string, unknown> = {}): ApiErrorBody {
  // Details first so that they can never override code or message.
  return { error: { ...details, code, message: message ?? SERVER_ERRORS[code].message } };
}

/** Shared JSON schema of every error answer (documented in OpenAPI). */
export const errorResponseSchema = {
  type: 'object',
  description: 'Every non-2xx answer. `code` is stable and what clients match on; `message` is for humans; other keys are details (e.g. `cycle` on deadlock, `field` on invalid_argument).',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: Object.keys(SERVER_ERRORS) },
        message: { type: 'string' },
      },
      required: ['code', 'message'],
      additionalProperties: true,
    },
  },
  required: ['error'],
} as const;
