// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.

/** Limit on how long a single Retry-After can make the SDK wait; the call's total budget also bounds it. */
export const RETRY_AFTER_MAX_MS = 60_000;

/** Milliseconds to wait, or null if the header is absent or malformed. */
export function parseRetryAfterMs(header: string | null, wallNowMs: number = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(RETRY_AFTER_MAX_MS, Math.round(Number(text) * 1000));
  // An HTTP-date always names the day ("Sun, 06 Nov 1994 08:49:37 GMT"); a bare '-1' is not one.
  if (!/[A-Za-z]/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(0, at - wallNowMs));
}
