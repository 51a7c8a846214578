// What a chaos run says as it starts: where to watch it (each node's
// console, and where the run's root token and CA are, never the token
// itself), and when it is too short to inject every fault kind asked for.
import { describe, expect, it } from 'vitest';
import { consoleLines } from '../../src/chaos/cluster/cluster.js';
import { shortRunWarning } from '../../src/chaos/run.js';

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

describe('chaos: a run too short for its fault kinds', () => {
  it('is told at the start, with the duration that is sure to cover them', () => {
    const warning = shortRunWarning(5, 15_000);
    expect(warning).toContain('--duration 15s may be too short to inject all 5 fault kinds');
    expect(warning).toContain('70s or more is sure');
  });

  it('says nothing when every kind fits, or when no fault is asked for', () => {
    expect(shortRunWarning(5, 75_000)).toBeNull();
    expect(shortRunWarning(5, 120_000)).toBeNull();
    expect(shortRunWarning(0, 5_000)).toBeNull();
  });
});
