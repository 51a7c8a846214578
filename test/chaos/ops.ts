// Builders for hand-made histories in the checker tests.
import type { OpRecord } from '../../src/chaos/history.js';

const base = (process: string, lock: string, invokeMs: number, completeMs: number): Pick<OpRecord, 'process' | 'lock' | 'invokeMs' | 'completeMs' | 'node'> => ({
  process,
  lock,
  invokeMs,
  completeMs,
  node: 'n1',
});

export const acq = (p: string, lock: string, inv: number, comp: number, token: number, ttlMs = 10_000): OpRecord => ({
  ...base(p, lock, inv, comp),
  op: 'acquire',
  result: 'ok',
  acquired: true,
  fencingToken: token,
  ttlMs,
});

export const busy = (p: string, lock: string, inv: number, comp: number, holders: number[], ttlMs = 10_000): OpRecord => ({
  ...base(p, lock, inv, comp),
  op: 'acquire',
  result: 'ok',
  acquired: false,
  holders,
  ttlMs,
});

export const acqUnknown = (p: string, lock: string, inv: number, ttlMs = 10_000): OpRecord => ({
  ...base(p, lock, inv, Infinity),
  op: 'acquire',
  result: 'unknown',
  ttlMs,
});

export const rel = (p: string, lock: string, inv: number, comp: number, token: number, result: OpRecord['result'] = 'ok'): OpRecord => ({
  ...base(p, lock, inv, result === 'unknown' ? Infinity : comp),
  op: 'release',
  result,
  fencingToken: token,
});

export const read = (p: string, lock: string, inv: number, comp: number, holders: number[]): OpRecord => ({
  ...base(p, lock, inv, comp),
  op: 'read',
  result: 'ok',
  holders,
});
