// buildApp(): the fastify instance with every route, hook and schema, apart
// from listen() so that tests drive it with app.inject().

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ServerContext } from './context.js';
import { ApiError, apiErrorBody } from './errors.js';
import { sendApiError } from './error-handler.js';
import { installAccess } from './access.js';
import { installAudit } from './audit.js';
import { APPLIED_INDEX_HEADER, INDEX_HEADER, LEADER_HEADER, NODE_HEADER } from './answer.js';
import { closeBodySchema } from './closed-bodies.js';
import { clusterRoutes } from './routes/cluster.js';
import { snapshotRoutes } from './routes/snapshot.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { documentApi } from './api-reference.js';
import { consoleRoutes } from './routes/console.js';
import { emptyPathParam, noRoute } from './no-route.js';

/** Where the API reference is served (@fastify/swagger-ui: the page, its assets, /docs/json and /docs/yaml). */
const DOCS_PREFIX = '/docs';

export interface AppPlugins {
  /** Extra resource plugins (sessions, locks, elections, fencing) registered after the base ones. */
  register(app: FastifyInstance): Promise<void>;
}

/** Longest path parameter the router accepts; longer is answered 400 by the schema-less router path. */
const PARAM_CHARS_MAX = 1024;

function parseJson(body: string): unknown {
  // An empty body is an empty object: `POST /v1/sessions` with no body takes every default.
  if (body.trim().length === 0) return {};
  return JSON.parse(body);
}

/** x-lockstep-node, and x-lockstep-leader when a leader is known (Conventions), for the answers that skip onSend, where the same two are set. */
function clusterHeaders(ctx: ServerContext): Record<string, string> {
  const leader = ctx.node.leadership().leader;
  return leader === null ? { [NODE_HEADER]: ctx.node.id } : { [NODE_HEADER]: ctx.node.id, [LEADER_HEADER]: leader };
}

/**
 * Answers a request that could not be parsed (fastify's clientErrorHandler): 400 invalid_argument
 * in the error envelope, like every other error. Its Authorization header cannot be trusted, so
 * with auth on it gets no cluster headers (as a 401 gets none).
 */
function answerUnparsed(ctx: ServerContext, error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer (as fastify's own handler does).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const message =
      error.code === 'HPE_HEADER_OVERFLOW' ? 'request: the request headers are over the limit'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request: the request was not received in time'
      : `request: not a valid HTTP request (${error.code ?? 'parse error'})`;
    const body = JSON.stringify(apiErrorBody('invalid_argument', message, { field: 'request' }));
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
      ...(ctx.auth.enabled ? {} : clusterHeaders(ctx)),
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.write(`HTTP/1.1 400 Bad Request\r\n${head}\r\n${body}`);
  }
  socket.destroy(error);
}

export interface ServerOptions {
  /** HTTPS only, with these options (serve --tls-*); plain HTTP without. */
  https?: import('node:https').ServerOptions;
}

/**
 * Node's deadline for receiving one request (headers and body), checked a few times per
 * deadline (connectionsCheckingInterval is 30 s by default); headers get the same deadline.
 */
function receiveOptions(limits: ServerContext['limits']): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  const ms = limits.requestReceiveMs;
  return { requestTimeout: ms, headersTimeout: ms, connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(ms / 4))) };
}

/**
 * Bounds the connections anyone can open, token or not (security audit): at most
 * connectionsMax at once, and a connection that sends no request within firstRequestMs
 * is closed (Node's own timeouts start at a request's first byte, and fastify sets no
 * socket timeout, so a silent socket stayed open for good). Once a request has come,
 * requestReceiveMs bounds its arrival and keepAliveTimeout the pause before the next.
 */
function boundConnections(app: FastifyInstance, limits: ServerContext['limits'], tls: boolean): void {
  const server = app.server;
  server.maxConnections = limits.connectionsMax;
  const waiting = new Set<Socket>();
  // Under TLS the HTTP socket is the TLS one (the handshake has its own timeout, handshakeTimeout).
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    waiting.add(socket);
    socket.once('close', () => waiting.delete(socket));
    // On timeout Node's HTTP server destroys a socket that has no request in progress.
    socket.setTimeout(limits.firstRequestMs);
  });
  server.on('request', (request: { socket: Socket }) => {
    if (waiting.delete(request.socket)) request.socket.setTimeout(0);
  });
  // Closing: a connection that has sent nothing is as idle as a kept-alive one, but Node's
  // closeIdleConnections leaves it (it knows a connection from its first request on), so a close
  // waited out firstRequestMs (10 s) or the shutdown's drain bound for it. Clients open such
  // connections: fetch (undici) opened one when a test cancelled an event stream, browsers preconnect.
  app.addHook('preClose', (done) => {
    for (const socket of waiting) socket.destroy();
    waiting.clear();
    done();
  });
}

export async function buildApp(ctx: ServerContext, plugins?: AppPlugins, server: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Node takes the request deadline from the server's constructor options (setting
    // server.requestTimeout later, as fastify's own option does, is not seen by its checks).
    ...(server.https ? { https: { ...server.https, ...receiveOptions(ctx.limits) } as import('node:https').ServerOptions } : { http: receiveOptions(ctx.limits) }),
    requestTimeout: ctx.limits.requestReceiveMs,
    loggerInstance: ctx.logger,
    bodyLimit: ctx.limits.bodyBytesMax,
    // Bodies are validated as sent: "5000" is not a number (no coercion);
    // the few numeric query parameters are declared as digit strings. Every
    // error is collected (bodies are bounded by bodyBytesMax and every array
    // by maxItems) so that an unknown field is named even when a required one
    // is missing too: ajv checks `required` first, and `{"fencingtoken": 5}`
    // must be answered about the typo, not the missing fencingToken.
    ajv: { customOptions: { coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: true } },
    // While closing, LockServer answers requests itself, in the contract's envelope (index.ts).
    return503OnClosing: false,
    // One log line per request (written in onResponse), not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Names are up to 256 characters (fastify's default allows 100); longer
    // params than this are refused by the router before validation.
    routerOptions: { maxParamLength: PARAM_CHARS_MAX },
    // Router-level errors (bad URL encoding, over-long params) answer from the table too. They skip
    // every hook, so the onSend rule is applied here: the cluster headers, except to a request
    // without a valid token when auth is on (it learns nothing about the cluster, as on a 401).
    frameworkErrors: (error, request, reply) => {
      if (!ctx.auth.enabled || ctx.auth.authenticate(request.headers.authorization) !== null) reply.headers(clusterHeaders(ctx));
      sendApiError(request, reply, error);
    },
    // A request Node's HTTP parser refuses (a control character in a header, a malformed request
    // line, headers over the limit) never reaches a route or a hook: answered from the table too.
    clientErrorHandler: (error, socket) => answerUnparsed(ctx, error, socket),
    // On close (SIGTERM), connections are not cut at once (`true` destroyed those with a request in
    // flight too): LockServer.close() closes them once the requests in flight are answered (cli.md:
    // "finish in-flight requests"); long polls and streams it answers or ends first.
    forceCloseConnections: false,
  });

  boundConnections(app, ctx.limits, server.https !== undefined);

  // Before any route: every body schema is closed (unknown fields are 400, closed-bodies.ts).
  app.addHook('onRoute', closeBodySchema);
  // The API reference is documentation, not cluster state: a browser opens it without a token
  // (it cannot send one on navigation). Its routes come from @fastify/swagger-ui, so they are marked here.
  app.addHook('onRoute', (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) route.config = { ...route.config, access: { kind: 'open' } };
  });

  // Every body is JSON, whatever its content type says; the size check runs
  // while reading, before any field is looked at.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: ctx.limits.bodyBytesMax }, (_request, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch {
      done(new ApiError('invalid_argument', 'body is not valid JSON', { field: 'body' }), undefined);
    }
  });

  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'HEAD') request.body = {};
  });

  const started = new WeakMap<object, number>();
  app.addHook('onRequest', async (request) => {
    started.set(request, ctx.clock.monotonicMs());
  });
  installAccess(app, ctx);
  // After the token is checked (a request without one learns nothing), before the params are validated.
  app.addHook('onRequest', async (request) => {
    if (!request.is404 && emptyPathParam(request.params)) throw noRoute(app, request);
  });
  installAudit(app, ctx.logger);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401) {
      // A request without a valid token learns nothing about the cluster: not
      // which node it reached, not who leads, not how far the log is (issue 11).
      for (const name of [NODE_HEADER, LEADER_HEADER, INDEX_HEADER, APPLIED_INDEX_HEADER]) reply.removeHeader(name);
      return payload;
    }
    // A forwarded answer keeps the leader header the leader sent. On every answer: no object built here.
    reply.header(NODE_HEADER, ctx.node.id);
    if (!reply.hasHeader(LEADER_HEADER)) {
      const leader = ctx.node.leadership().leader;
      if (leader !== null) reply.header(LEADER_HEADER, leader);
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const startMs = started.get(request);
    if (startMs === undefined) return;
    const route = request.routeOptions.url ?? 'unmatched';
    const elapsedMs = Math.max(0, ctx.clock.monotonicMs() - startMs);
    ctx.metrics.requestSeconds.observe({ route, method: request.method, status: String(reply.statusCode) }, elapsedMs / 1000);
    // One line per request at debug: at info, formatting and writing it was ~6% of a busy leader's
    // CPU (issue 12 profile). Server errors stay at info; 401/403 have their audit lines.
    const level = reply.statusCode >= 500 ? 'info' : 'debug';
    request.log[level]({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(elapsedMs * 100) / 100 }, 'request');
  });

  app.setErrorHandler((error, request, reply) => sendApiError(request, reply, error as Error));
  app.setNotFoundHandler((request, reply) => sendApiError(request, reply, noRoute(app, request)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'lockstep',
        version: '1',
        description:
          'Distributed lock service on Raft. Every node serves the whole API; followers forward writes and linearizable reads to the leader. '
          + 'Every answer carries x-lockstep-node and (when known) x-lockstep-leader; answers that reflect replicated state carry x-lockstep-index. '
          + `Limits: body ${ctx.limits.bodyBytesMax} bytes (413 payload_too_large), ${ctx.limits.waitsMax} concurrent long-poll waits (${ctx.limits.waitsPerTokenMax} of them for one writer or reader token) and ${ctx.limits.watchesMax} open SSE streams per node, ${ctx.limits.watchesPerTokenMax} of them under one writer or reader token (429 too_many_requests with Retry-After).`,
      },
    },
    // Operation ids, descriptions and examples for every route (api-reference.ts).
    transformObject: (document) => ('openapiObject' in document ? documentApi(document.openapiObject) : document.swaggerObject),
  });
  // Served from the package's own files (no CDN), with a Content-Security-Policy to match.
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    // Its default policy asks browsers to upgrade every request to https: a node serving plain HTTP
    // (loopback, or --insecure) would get a reference whose assets all fail to load.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    // BaseLayout: the page without the standalone top bar. That bar draws swagger's logo as an SVG with
    // an inline <style>, which the policy's style-src ('self') refuses: the browser logged a violation
    // on every load, before @fastify/swagger-ui swapped in its own logo. No unsafe-inline needed.
    uiConfig: { docExpansion: 'list', deepLinking: true, displayOperationId: true, layout: 'BaseLayout' },
    validatorUrl: false,
    theme: { title: 'lockstep API reference' },
  });

  await app.register(healthRoutes, { ctx });
  await app.register(metricsRoutes, { ctx });
  await app.register(clusterRoutes, { ctx });
  await app.register(snapshotRoutes, { ctx });
  await app.register(consoleRoutes, { ctx });
  if (plugins) await plugins.register(app);
  return app;
}
