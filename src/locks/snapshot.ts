// The lock machine's snapshot codec: the whole MachineState as msgpack, Maps
// and Sets as arrays in their iteration order, so that a restored replica
// iterates (and so grants, lists and snapshots) exactly like its source.
import { assert } from './applying.js';
import { decodeValue, encodeValue } from './codec.js';
import { IdempotencyTable } from './idempotency.js';
import type { MachineState, SnapshotData } from './state.js';

const SNAPSHOT_VERSION = 1;

export function encodeSnapshot(state: MachineState): Uint8Array {
  const data: SnapshotData = {
    version: SNAPSHOT_VERSION,
    appliedIndex: state.applied,
    lastToken: state.lastToken,
    maxNowMs: state.maxNowMs,
    sessions: [...state.sessions.values()].map((s) => ({
      sessionId: s.sessionId,
      ttlMs: s.ttlMs,
      lockDelayMs: s.lockDelayMs,
      name: s.name,
      heldLocks: [...s.heldLocks],
      ledElections: [...s.ledElections],
      waitIds: [...s.waitIds],
    })),
    locks: [...state.locks.values()],
    elections: [...state.elections.values()],
    waits: [...state.waits.entries()],
    idempotency: state.idempotency.toArray(),
  };
  return encodeValue(data);
}

/** The state a snapshot taken at Raft index `index` holds. */
export function decodeSnapshot(bytes: Uint8Array, index: number): MachineState {
  const data = decodeValue(bytes) as SnapshotData;
  assert(data?.version === SNAPSHOT_VERSION, `unknown lock snapshot version ${String(data?.version)}`);
  // The machine sees only normal entries; a Raft snapshot may be taken at a
  // no-op or config entry after the last of them. Keep the machine's own
  // applied index so that a restored replica is byte-identical to one that
  // applied the same commands (sim finding F5).
  assert(data.appliedIndex <= index, `lock snapshot applied at ${data.appliedIndex} is ahead of its Raft snapshot index ${index}`);
  return {
    sessions: new Map(
      data.sessions.map((s) => [
        s.sessionId,
        { ...s, heldLocks: new Set(s.heldLocks), ledElections: new Set(s.ledElections), waitIds: new Set(s.waitIds) },
      ]),
    ),
    locks: new Map(data.locks.map((l) => [l.name, l])),
    elections: new Map(data.elections.map((e) => [e.name, e])),
    waits: new Map(data.waits),
    lastToken: data.lastToken,
    maxNowMs: data.maxNowMs,
    idempotency: IdempotencyTable.fromArray(data.idempotency),
    applied: data.appliedIndex,
  };
}
