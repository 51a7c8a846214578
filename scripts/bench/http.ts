// The benchmark's one HTTP client, the same for every system: node:http with a
// keep-alive Agent (no fetch: undici costs the generator 2-4x the CPU and the
// generator shares the machine with the servers), JSON in and out, a hard
// per-request deadline. https:// URLs (the lockstep-tls system) go through a
// node:https keep-alive Agent that trusts the given CA.
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  json: Record<string, unknown>;
}

/** Idle keep-alive sockets kept per node; enough for the largest client count. */
const IDLE_SOCKETS_MAX = 256;

export class BenchHttp {
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: IDLE_SOCKETS_MAX });
  private readonly tlsAgent: HttpsAgent | null;

  /** `ca`: trust this CA for https:// URLs (none: no https). */
  constructor(ca?: Buffer) {
    this.tlsAgent = ca === undefined ? null : new HttpsAgent({ keepAlive: true, maxFreeSockets: IDLE_SOCKETS_MAX, ca });
  }

  private request(url: string, method: string, headers?: Record<string, string | number>) {
    if (!url.startsWith('https:')) return httpRequest(url, { method, agent: this.agent, headers });
    if (this.tlsAgent === null) throw new Error(`${url}: no CA given for https`);
    return httpsRequest(url, { method, agent: this.tlsAgent, headers });
  }

  /** POSTs JSON; rejects on a socket error or when `timeoutMs` passes (the request is destroyed). */
  post(url: string, body: unknown, timeoutMs: number): Promise<HttpAnswer> {
    return this.send('POST', url, body, timeoutMs);
  }

  /** Sends JSON (no body when `body` is undefined); rejects as post does. */
  send(method: 'GET' | 'POST' | 'DELETE', url: string, body: unknown, timeoutMs: number): Promise<HttpAnswer> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(payload) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = this.request(url, method, headers);
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.once('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
          } catch {
            reject(new Error(`${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
          }
        });
      });
      req.end(payload);
    });
  }

  /** GET returning JSON, or null on any failure (used for polling cluster state). */
  getJson(url: string, timeoutMs: number): Promise<Record<string, unknown> | null> {
    return new Promise((resolve) => {
      const req = this.request(url, 'GET');
      const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
      req.once('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', () => resolve(null));
        res.once('end', () => {
          clearTimeout(timer);
          if (res.statusCode !== 200) return resolve(null);
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
          } catch {
            resolve(null);
          }
        });
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
    this.tlsAgent?.destroy();
  }
}
