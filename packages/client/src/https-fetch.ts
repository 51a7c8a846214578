// fetch over node:https with our own trust: Node's global fetch (undici) takes
// no CA, client certificate or Agent without the undici package, and this SDK
// uses Node built-ins only. httpsFetch(agent) has fetch's shape for what the
// SDK asks of it: https:// URLs go through `agent` (its CA, certificate and
// key), with the body streamed; http:// URLs go to the global fetch. Errors
// look like fetch's: a TypeError whose `cause` is the socket error (with its
// `code`), or the signal's reason once aborted.
import { request, Agent, type AgentOptions } from 'node:https';
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

/** `agent` may be a getter, so that its owner can replace it (certificate rotation). */
export function httpsFetch(agent: Agent | (() => Agent)): typeof fetch {
  const agentNow = typeof agent === 'function' ? agent : () => agent;
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:') return globalThis.fetch(input, init);
    const signal = init.signal ?? undefined;
    const headers = new Headers(init.headers);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('lockstep client: httpsFetch sends string bodies only');
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
