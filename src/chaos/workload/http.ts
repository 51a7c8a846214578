// One HTTP attempt against a node, classified the way the checkers need:
// an answer (status + body), or no answer at all (timeout, connection
// error), which leaves the outcome unknown. A TLS run's requests go through
// the run's own fetch (HTTPS trusting the cluster CA; `through`).

export type Attempt =
  | { kind: 'answer'; status: number; body: any; node: string | null; index: number | null }
  | { kind: 'no-answer'; error: string };

export const ATTEMPT_TIMEOUT_MS_DEFAULT = 2000;

export async function attempt(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body: unknown,
  options: { timeoutMs?: number; idempotencyKey?: string; through?: typeof fetch } = {},
): Promise<Attempt> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  try {
    const res = await (options.through ?? fetch)(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(Math.max(1, Math.floor(options.timeoutMs ?? ATTEMPT_TIMEOUT_MS_DEFAULT))),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
    const index = res.headers.get('x-lockstep-index');
    return { kind: 'answer', status: res.status, body: parsed, node: res.headers.get('x-lockstep-node'), index: index === null ? null : Number(index) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { kind: 'no-answer', error: e.cause?.code ?? e.name ?? String(err) };
  }
}

/** The error code of a non-2xx answer. */
export const errorCode = (a: Attempt): string | null =>
  a.kind === 'answer' && a.status >= 300 ? String((a.body as { error?: { code?: string } })?.error?.code ?? a.status) : null;
