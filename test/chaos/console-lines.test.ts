// A chaos run says where to watch it: each node's console, and where the
// run's root token and CA are, never the token itself.
import { describe, expect, it } from 'vitest';
import { consoleLines } from '../../src/chaos/cluster/cluster.js';

describe('chaos: how to watch a run', () => {
  it('names every node\'s console, and the files that hold the secrets', () => {
    const lines = consoleLines(['https://127.0.0.1:20001', 'https://127.0.0.1:20002'], '/runs/x/root-token', '/runs/x/certs/ca.crt');
    expect(lines[0]).toBe('watch it live in a browser: https://127.0.0.1:20001/ui/  https://127.0.0.1:20002/ui/');
    expect(lines[1]).toContain('/runs/x/root-token');
    expect(lines[2]).toContain('/runs/x/certs/ca.crt');
  });

  it('says nothing of tokens or certificates for a plain run', () => {
    expect(consoleLines(['http://127.0.0.1:20001'], null, null)).toEqual(['watch it live in a browser: http://127.0.0.1:20001/ui/']);
  });
});
