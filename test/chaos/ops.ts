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

type Hold = { name: string; fencingToken: number };

/** A lock set granted: every hold in the order asked (the names asked default to the holds'). */
export const setAcq = (p: string, inv: number, comp: number, holds: Hold[], names = holds.map((h) => h.name), ttlMs = 10_000): OpRecord => ({
  ...base(p, names.join('+'), inv, comp),
  op: 'set.acquire',
  result: 'ok',
  acquired: true,
  ttlMs,
  set: { names, holds },
});

/** A lock set not granted: `blocked` the locks that stood in its way and their holders. */
export const setBusy = (p: string, inv: number, comp: number, names: string[], blocked: Array<{ name: string; holders: number[] }>, ttlMs = 10_000): OpRecord => ({
  ...base(p, names.join('+'), inv, comp),
  op: 'set.acquire',
  result: 'ok',
  acquired: false,
  ttlMs,
  set: { names, blocked },
});

export const setRel = (p: string, inv: number, comp: number, holds: Hold[], result: OpRecord['result'] = 'ok', notHolding?: string[]): OpRecord => ({
  ...base(p, holds.map((h) => h.name).join('+'), inv, result === 'unknown' ? Infinity : comp),
  op: 'set.release',
  result,
  set: { names: holds.map((h) => h.name), holds, ...(notHolding ? { notHolding } : {}) },
});
