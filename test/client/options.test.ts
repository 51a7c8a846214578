// The Client's options, checked when it is made rather than at the first request.
import { describe, expect, it } from 'vitest';
import { Client } from 'lockstep-client';

describe('Client options', () => {
  it('refuses a token that no Authorization header can carry, naming it, instead of failing every request as if the cluster were down', () => {
    for (const token of ['lst_abc\n', 'lst_abc def', 'lst_ünïcode', '']) {
      expect(() => new Client({ endpoints: ['http://127.0.0.1:1'], token }), JSON.stringify(token)).toThrow(/token must be visible ASCII/);
    }
    expect(() => new Client({ endpoints: ['http://127.0.0.1:1'], token: 'lst_Zm9vYmFy-_' })).not.toThrow();
    expect(() => new Client({ endpoints: ['http://127.0.0.1:1'] })).not.toThrow();
  });
});
