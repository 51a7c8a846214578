// The lock machine's snapshot codec: the whole MachineState as msgpack, Maps
// and Sets as arrays in their iteration order, so that a restored replica
// iterates (and so grants, lists and snapshots) exactly like its source.
import { assert } from './applying.js';
import { decodeValue, encodeValue } from './codec.js';
import { IdempotencyTable } from './idempotency.js';
import { TokenTable } from './tokens.js';
import type { MachineState, SnapshotData } from './state.js';

const SNAPSHOT_VERSION = 2;
/** Version 1 (before tokens) is still read: no tokens, sessions and waits of no token. */
const READABLE_VERSIONS: ReadonlySet<number> = new Set([1, 2]);

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
      createdBy: s.createdBy,
      heldLocks: [...s.heldLocks],
      ledElections: [...s.ledElections],
      waitIds: [...s.waitIds],
    })),
    locks: [...state.locks.values()],
    elections: [...state.elections.values()],
    waits: [...state.waits.entries()],
    idempotency: state.idempotency.toArray(),
    tokens: state.tokens.toArray(),
  };
  return encodeValue(data);
}

/** The state a snapshot taken at Raft index `index` holds. */
export function decodeSnapshot(bytes: Uint8Array, index: number, idempotencyRecordsMax?: number): MachineState {
  const data = decodeValue(bytes) as SnapshotData;
  assert(READABLE_VERSIONS.has(data?.version), `unknown lock snapshot version ${String(data?.version)}`);
  // The machine sees only normal entries; a Raft snapshot may be taken at a
  // no-op or config entry after the last of them. Keep the machine's own
  // applied index so that a restored replica is byte-identical to one that
  // applied the same commands (sim finding F5).
  assert(data.appliedIndex <= index, `lock snapshot applied at ${data.appliedIndex} is ahead of its Raft snapshot index ${index}`);
  return {
    sessions: new Map(
      data.sessions.map((s) => [
        s.sessionId,
        { ...s, createdBy: s.createdBy ?? null, heldLocks: new Set(s.heldLocks), ledElections: new Set(s.ledElections), waitIds: new Set(s.waitIds) },
      ]),
    ),
    locks: new Map(data.locks.map((l) => [l.name, l])),
    elections: new Map(data.elections.map((e) => [e.name, e])),
    waits: new Map(data.waits.map(([id, ref]) => [id, { ...ref, tokenId: ref.tokenId ?? null }])),
    lastToken: data.lastToken,
    maxNowMs: data.maxNowMs,
    idempotency: IdempotencyTable.fromArray(data.idempotency, idempotencyRecordsMax),
    tokens: TokenTable.fromArray(data.tokens ?? []),
    applied: data.appliedIndex,
  };
}
