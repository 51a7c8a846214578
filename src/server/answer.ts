// An answer computed by a handler or the lock service: status, JSON body and
// the Raft index the result reflects (x-lockstep-index).

import type { FastifyReply } from 'fastify';

export interface Answer {
  status: number;
  body: unknown;
  /** The Raft index at which this result was applied / read; null when it reflects no replicated state. */
  index: number | null;
  headers?: Record<string, string>;
}

export const INDEX_HEADER = 'x-lockstep-index';
export const APPLIED_INDEX_HEADER = 'x-lockstep-applied-index';
export const NODE_HEADER = 'x-lockstep-node';
export const LEADER_HEADER = 'x-lockstep-leader';
/** Marks a request forwarded by a follower: the receiver answers it, never forwards it again (docs/safety.md #16). */
export const FORWARDED_HEADER = 'x-lockstep-forwarded-by';

export function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  if (answer.index !== null) reply.header(INDEX_HEADER, String(answer.index));
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  return reply.code(answer.status).send(answer.body);
}
