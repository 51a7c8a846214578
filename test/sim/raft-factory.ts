// Where the simulator gets its Raft from: src/raft/raft.ts, or, for the
// broken-variant experiments (BROKEN-VARIANTS.md), a copy of it named by the
// LOCKSTEP_SIM_RAFT environment variable (a path to a module exporting Raft).
// Resolved at run time so the simulator type-checks before the core exists.

import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { RaftCore } from '../../src/raft/api.js';
import type { PersistentState, RaftConfig } from '../../src/raft/types.js';

export type RaftConstructor = new (config: RaftConfig, persisted: PersistentState) => RaftCore;

export const RAFT_OVERRIDE_ENV = 'LOCKSTEP_SIM_RAFT';

export async function loadRaft(): Promise<RaftConstructor> {
  const override = process.env[RAFT_OVERRIDE_ENV];
  const url = override
    ? pathToFileURL(resolve(override)).href
    : new URL('../../src/raft/raft.ts', import.meta.url).href;
  const mod = (await import(url)) as { Raft?: RaftConstructor };
  if (typeof mod.Raft !== 'function') throw new Error(`${url} does not export a Raft class`);
  return mod.Raft;
}
