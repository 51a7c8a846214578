// Test doubles for SDK unit tests: a manual monotonic clock and a scripted fetch.
import type { Clock, TimerHandle } from '../../packages/client/src/clock.js';

/** Let pending promise chains (fetch bodies, awaits) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export class ManualClock implements Clock {
  private now = 0;
  private seq = 0;
  private timers: { atMs: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  nowMs(): number {
    return this.now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const t = { atMs: this.now + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Move time forward, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.atMs <= target).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.now = due.atMs;
      due.fn();
    }
    this.now = target;
    await settle();
  }

  /** Jump forward WITHOUT firing timers: an event-loop stall; timers fire late on the next advance. */
  stall(ms: number): void {
    this.now += ms;
  }
}

export interface FakeRequest {
  endpoint: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
  atMs: number;
}

export type FakeHandler = (req: FakeRequest) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function apiError(status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message: `${code} happened`, ...extra } }, headers);
}

/** A connection error shaped like undici's: TypeError('fetch failed') with cause.code. */
export function connectionError(code: string): Error {
  const cause = Object.assign(new Error(`connect ${code}`), { code });
  return Object.assign(new TypeError('fetch failed'), { cause });
}

/** A request that never answers until aborted. */
export function hang(req: FakeRequest): Promise<Response> {
  return new Promise((_, reject) => {
    req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
  });
}

export function fakeFetch(clock: ManualClock, handler: FakeHandler): { fetch: typeof fetch; calls: FakeRequest[] } {
  const calls: FakeRequest[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = v;
    const req: FakeRequest = {
      endpoint: `${url.protocol}//${url.host}`,
      path: url.pathname + url.search,
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init?.signal ?? undefined,
      atMs: clock.nowMs(),
    };
    calls.push(req);
    return handler(req);
  };
  return { fetch: f as typeof fetch, calls };
}

/**
 * A server that grants a request just as its client gives up: the first request
 * with an Idempotency-Key hangs until aborted (its answer is lost), and a repeat
 * with that key gets `granted()`, as the server's idempotency record answers it.
 */
export function grantedAsAbandoned(granted: () => Response): { handler: FakeHandler; repeats: FakeRequest[] } {
  const keys = new Set<string>();
  const repeats: FakeRequest[] = [];
  const handler: FakeHandler = (req) => {
    const key = req.headers['idempotency-key'];
    if (!keys.has(key)) {
      keys.add(key);
      return hang(req);
    }
    repeats.push(req);
    return granted();
  };
  return { handler, repeats };
}
