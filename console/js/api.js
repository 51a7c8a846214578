// The console's calls to the API of the node that served it: JSON requests
// with the tab's token, and SSE streams read with fetch (EventSource cannot
// send an Authorization header) that reconnect by themselves.

const TOKEN_KEY = 'lockstep.token';

/** The token lives in sessionStorage: this tab only, gone when it closes. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (secret) => sessionStorage.setItem(TOKEN_KEY, secret),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

function headers(extra = {}) {
  const secret = token.get();
  return secret ? { ...extra, authorization: `Bearer ${secret}` } : extra;
}

/** Called with every 401: the token is missing, unknown or was revoked. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'http';
    this.body = body;
  }
}

export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, { error: { code: 'network', message: `the node did not answer (${error.message})` } });
  }
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // not JSON
  }
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** One SSE block ("event: x\ndata: {...}") → {event, data}, or null for a comment. */
function parseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return null;
  return { event, data: JSON.parse(data.join('\n')) };
}

const RETRY_MS_MIN = 300;
const RETRY_MS_MAX = 3_000;

/**
 * Opens an SSE stream and keeps it open: when it drops (the node restarts, the
 * network fails) it reconnects with a growing pause. `onStatus` hears
 * {state: 'open', reconnected, downMs} | {state: 'reconnecting', attempt, error}
 * | {state: 'closed', error} (401/403: retrying would not help).
 */
export function openStream(path, onEvent, onStatus = () => {}) {
  let stopped = false;
  let controller = null;
  let downSince = null;
  let attempt = 0;
  (async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal: controller.signal, cache: 'no-store' });
        if (response.status === 401 || response.status === 403) {
          const body = await response.json().catch(() => ({}));
          if (response.status === 401) onUnauthorized();
          onStatus({ state: 'closed', error: new ApiError(response.status, body) });
          return;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        onStatus({ state: 'open', reconnected: downSince !== null, downMs: downSince === null ? 0 : Date.now() - downSince });
        downSince = null;
        attempt = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const message = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (message === null) continue;
            if (message.event === 'error') {
              const error = new ApiError(message.data?.error?.code === 'unauthorized' ? 401 : 500, message.data);
              if (error.status === 401) {
                onUnauthorized();
                onStatus({ state: 'closed', error });
                return;
              }
              throw error;
            }
            onEvent(message.event, message.data);
          }
        }
        throw new Error('the stream ended');
      } catch (error) {
        if (stopped) return;
        downSince ??= Date.now();
        attempt += 1;
        onStatus({ state: 'reconnecting', attempt, error });
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS_MAX, RETRY_MS_MIN * attempt)));
      }
    }
  })();
  return {
    close() {
      stopped = true;
      controller?.abort();
    },
  };
}
