// The lock machine's snapshot codec: the whole MachineState as msgpack, Maps
// and Sets as arrays in their iteration order, so that a restored replica
// iterates (and so grants, lists and snapshots) exactly like its source.
import { assert } from './applying.js';
import { decodeValue, encodeValue } from './codec.js';
import { IdempotencyTable } from './idempotency.js';
import { TokenTable } from './tokens.js';
import { countHolds, countQueuedPlaces, type MachineState, type SnapshotData } from './state.js';

/**
 * 3: tokens, sessions' createdBy, waits' tokenId. 2: lock sets. An older
 * snapshot reads as one with no token and no set waiting.
 */
const SNAPSHOT_VERSION = 3;
const SNAPSHOT_VERSIONS_READ = new Set([1, 2, 3]);

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
    lockSets: [...state.lockSets.values()],
    idempotency: state.idempotency.toArray(),
    tokens: state.tokens.toArray(),
  };
  return encodeValue(data);
}

/**
 * The snapshot a cluster restored from a backup starts from: `bytes` with its
 * last fencing token raised by `gap`, so that every token the restored
 * cluster grants is above any the old one may have granted after the backup
 * (limits.ts RESTORE_TOKEN_GAP). Everything else is as it was.
 */
export function raiseTokenFloor(bytes: Uint8Array, gap: number): Uint8Array {
  const data = decodeValue(bytes) as SnapshotData;
  assert(SNAPSHOT_VERSIONS_READ.has(data?.version), `unknown lock snapshot version ${String(data?.version)}`);
  assert(Number.isSafeInteger(data.lastToken + gap) && gap >= 0, `cannot raise the last token ${data.lastToken} by ${gap}`);
  return encodeValue({ ...data, lastToken: data.lastToken + gap });
}

/** The state a snapshot taken at Raft index `index` holds. */
export function decodeSnapshot(bytes: Uint8Array, index: number, idempotencyRecordsMax?: number): MachineState {
  const data = decodeValue(bytes) as SnapshotData;
  assert(SNAPSHOT_VERSIONS_READ.has(data?.version), `unknown lock snapshot version ${String(data?.version)}`);
  // The machine sees only normal entries; a Raft snapshot may be taken at a
  // no-op or config entry after the last of them. Keep the machine's own
  // applied index so that a restored replica is byte-identical to one that
  // applied the same commands (sim finding F5).
  assert(data.appliedIndex <= index, `lock snapshot applied at ${data.appliedIndex} is ahead of its Raft snapshot index ${index}`);
  const state: MachineState = {
    sessions: new Map(
      data.sessions.map((s) => [
        s.sessionId,
        { ...s, createdBy: s.createdBy ?? null, heldLocks: new Set(s.heldLocks), ledElections: new Set(s.ledElections), waitIds: new Set(s.waitIds) },
      ]),
    ),
    locks: new Map(data.locks.map((l) => [l.name, l])),
    elections: new Map(data.elections.map((e) => [e.name, e])),
    waits: new Map(data.waits.map(([id, ref]) => [id, { ...ref, tokenId: ref.tokenId ?? null }])),
    lockSets: new Map((data.lockSets ?? []).map((set) => [set.waitId, set])),
    lastToken: data.lastToken,
    maxNowMs: data.maxNowMs,
    idempotency: IdempotencyTable.fromArray(data.idempotency, idempotencyRecordsMax),
    tokens: TokenTable.fromArray(data.tokens ?? []),
    applied: data.appliedIndex,
    queuedPlaces: 0,
    heldCount: 0,
  };
  state.queuedPlaces = countQueuedPlaces(state);
  state.heldCount = countHolds(state);
  return state;
}
