import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, RETRY_AFTER_MAX_MS } from '../../packages/client/src/retry-after.js';

describe('parseRetryAfterMs (RFC 9110 §10.2.3)', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs('1')).toBe(1000);
    expect(parseRetryAfterMs(' 0.25 ')).toBe(250);
    expect(parseRetryAfterMs('0')).toBe(0);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:40 GMT', now)).toBe(3000);
    expect(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:30 GMT', now)).toBe(0);
  });

  it('ignores absent or malformed values and caps huge ones', () => {
    expect(parseRetryAfterMs(null)).toBeNull();
    expect(parseRetryAfterMs('')).toBeNull();
    expect(parseRetryAfterMs('soon')).toBeNull();
    expect(parseRetryAfterMs('-1')).toBeNull();
    expect(parseRetryAfterMs('86400')).toBe(RETRY_AFTER_MAX_MS);
  });
});
