// fetch over node:http / node:https with our own Agent: Node's global fetch
// (undici) takes no CA, client certificate or Agent without the undici
// package, and this SDK uses Node built-ins only. httpsFetch(agent) and
// httpFetch(agent) have fetch's shape for what the SDK (and a node forwarding
// to its leader) asks of them: URLs of their scheme go through `agent` (its
// keep-alive pool; for https also its CA, certificate and key), with the body
// streamed; other URLs go to the global fetch. Errors look like fetch's: a
// TypeError whose `cause` is the socket error (with its `code`), or the
// signal's reason once aborted. Aborting the signal also ends a response body
// still streaming (an SSE stream).
import { request as httpRequest, Agent as HttpAgent, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest, Agent, type AgentOptions } from 'node:https';
import { Readable } from 'node:stream';

/** The SDK's `tls` option: PEM text or buffers. */
export interface TlsOptions {
  /** Trust these CAs (the cluster CA) instead of the system's. */
  ca?: string | Buffer;
  /** A client certificate and its key, for nodes that require one. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export function httpsAgent(tls: TlsOptions, extra: AgentOptions = {}): Agent {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error('lockstep client: tls.cert and tls.key go together');
  return new Agent({ keepAlive: true, ...extra, ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key }) });
}

/** A keep-alive pool for plain HTTP: one connection setup per peer, not per request. */
export function httpAgent(): HttpAgent {
  return new HttpAgent({ keepAlive: true });
}

/** `agent` may be a getter, so that its owner can replace it (certificate rotation). */
export function httpsFetch(agent: Agent | (() => Agent)): typeof fetch {
  return agentFetch('https:', httpsRequest, agent);
}

/** The plain-HTTP twin of httpsFetch: http:// URLs through `agent`. */
export function httpFetch(agent: HttpAgent | (() => HttpAgent)): typeof fetch {
  return agentFetch('http:', httpRequest, agent);
}

type NodeRequest = (url: URL, options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;

function agentFetch<A extends HttpAgent>(protocol: 'http:' | 'https:', request: NodeRequest, agent: A | (() => A)): typeof fetch {
  const agentNow = typeof agent === 'function' ? agent : () => agent;
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== protocol) return globalThis.fetch(input, init);
    const signal = init.signal ?? undefined;
    const headers = new Headers(init.headers);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('lockstep client: agent fetch sends string bodies only');
    // Framed like fetch frames it: without a length, node:http sends a DELETE's body unframed and the
    // server reads it as the start of the next request on the kept-alive connection.
    if (typeof body === 'string') headers.set('content-length', String(Buffer.byteLength(body)));
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const req = request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), agent: agentNow(), signal }, (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
        }
        const status = res.statusCode ?? 502;
        const noBody = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
        if (noBody) res.resume();
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: responseHeaders }));
      });
      req.on('error', (err) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: err })));
      req.end(body ?? undefined);
    });
  }) as typeof fetch;
}
