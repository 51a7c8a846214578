// The leader's side of forwarding over the peer channel (forward.ts). A call
// (the leader's part of a write whose route ran on the member) goes to the
// lock service directly (leader-calls.ts). A request a member relays is run
// through this node's own routes with
// fastify's inject, so it meets exactly what an HTTP request meets — routing,
// body limits and schemas, the token and permission checks, the hooks — with
// no socket and no second HTTP parse (issue 12). The forwarded-by header is
// the transport's verified peer id, whatever the request carried.
//
// A forward the member gives up on (its client left, its bound ran out) must
// end the work here as a client disconnect ends it: inject's own signal does
// nothing once the body is read, so the request carries a reference (a
// per-server secret and a number, unguessable by HTTP clients), and a hook
// turns its abort into the 'aborted' event that clientGone() listens for.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, InjectOptions } from 'fastify';
import type { Cancel } from '../cancel.js';
import type { NodeId } from '../raft/types.js';
import { type HttpForwardRequest, type HttpForwardResponse, isForwardCall, type PeerForwarding } from '../transport/api.js';
import { FORWARD_RESPONSE_BYTES_MAX } from '../transport/limits.js';
import type { ServerContext } from './context.js';
import { FORWARDED_HEADER } from './answer.js';
import { ApiError } from './errors.js';
import { DROPPED_RESPONSE_HEADERS, unavailableError } from './forward.js';
import { answerCall } from './leader-calls.js';
import type { Services } from './services.js';

/** Carries the reference from answer() to the hook; removed from the request before anything else sees it. */
const REF_HEADER = 'x-lockstep-forward-ref';

/** Must be called before the app is ready (it adds a hook). */
export function answerForwards(app: FastifyInstance, ctx: ServerContext, services: Services, peers: PeerForwarding): void {
  const secret = randomBytes(16).toString('hex');
  let seq = 0;
  const cancels = new Map<string, Cancel>();
  app.addHook('onRequest', async (request) => {
    const ref = request.headers[REF_HEADER];
    if (ref === undefined) return;
    delete request.headers[REF_HEADER];
    const cancel = typeof ref === 'string' ? cancels.get(ref) : undefined;
    if (cancel) relayAbort(cancel, request);
  });
  peers.onForward(async (from, request, cancel, address) => {
    if (isForwardCall(request)) return answerCall(ctx, services, request, cancel, app.log);
    const ref = `${secret}-${++seq}`;
    cancels.set(ref, cancel);
    try {
      return await answer(app, ctx, from, request, ref, address);
    } finally {
      cancels.delete(ref);
    }
  });
}

/** The member gave up: to the route, as if its client had disconnected. */
function relayAbort(cancel: Cancel, request: FastifyRequest): void {
  const raw = request.raw;
  const onAbort = (): void => void raw.emit('aborted');
  if (cancel.aborted) return onAbort();
  const removeOnAbort = cancel.onAbort(onAbort);
  raw.once('close', removeOnAbort);
}

async function answer(app: FastifyInstance, ctx: ServerContext, from: NodeId, request: HttpForwardRequest, ref: string, address: string | undefined): Promise<HttpForwardResponse> {
  let res;
  try {
    res = await app.inject({
      method: request.method as InjectOptions['method'],
      url: request.url,
      headers: { ...request.headers, [FORWARDED_HEADER]: from, [REF_HEADER]: ref },
      ...(request.body === null ? {} : { payload: request.body }),
      // The request's source is the member that relayed it, as with an HTTP forward (the audit line's `source`).
      ...(address === undefined ? {} : { remoteAddress: address }),
    });
  } catch {
    // Aborted (the client left: nobody reads this), or the server is closing.
    return errorAnswer(unavailableError(ctx, 'the leader could not finish the request; the outcome is unknown, retry with the same Idempotency-Key'));
  }
  const body = res.rawPayload;
  if (body.length > FORWARD_RESPONSE_BYTES_MAX) {
    return errorAnswer(unavailableError(ctx, `the answer (${body.length} bytes) is too large to relay; ask the leader directly`));
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    // Headers the member drops from every answer (hop-by-hop, or its own) are not sent: less to
    // encode, check and decode per forwarded request.
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { status: res.statusCode, headers, body };
}

function errorAnswer(error: ApiError): HttpForwardResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...error.headers },
    body: Buffer.from(JSON.stringify(error.body())),
  };
}
