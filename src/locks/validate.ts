// Shape and range checks of a decoded proposal, before anything changes
// (bad commands never change state). Entries come off the Raft log as bytes,
// so nothing about their shape is trusted. Returns the message of a
// `400 invalid_argument`, or null when the command is well formed.
import type { LockCommand, LockProposal } from './commands.js';
import {
  HOLD_TTL_MS_MAX,
  HOLD_TTL_MS_MIN,
  HOLDERS_PER_LOCK_MAX,
  ID_CHARS_MAX,
  LOCK_SET_NAMES_MAX,
  LOCK_SET_NAMES_MIN,
  IDEMPOTENCY_KEY_CHARS_MAX,
  IDEMPOTENCY_METHOD_CHARS_MAX,
  IDEMPOTENCY_PATH_CHARS_MAX,
  LOCK_DELAY_MS_MAX,
  NAME_PATTERN,
  OWNER_CHARS_MAX,
  SESSION_NAME_CHARS_MAX,
  SESSION_TTL_MS_MAX,
  SESSION_TTL_MS_MIN,
  VALUE_CHARS_MAX,
  WAIT_MS_MAX,
  PREFIX_PATTERN,
  SECRET_HASH_PATTERN,
  TOKEN_ID_PATTERN,
  TOKEN_NAME_CHARS_MAX,
  TOKEN_PREFIXES_MAX,
} from './limits.js';
import { ROLES } from './permissions.js';

type Check = string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function intIn(field: string, v: unknown, min: number, max: number): Check {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return `${field} must be an integer in ${min}..${max}`;
  return null;
}

/**
 * Characters are Unicode code points, as the HTTP schema (JSON Schema
 * maxLength) counts them: 4096 emoji are 4096 characters, not 8192 UTF-16
 * units. A mismatch made such a value pass the route and fail here, after it
 * had taken a log entry.
 */
function charCount(v: string): number {
  let count = 0;
  for (const _ of v) count++;
  return count;
}

function str(field: string, v: unknown, charsMax: number, charsMin = 0): Check {
  // A string's code points never outnumber its UTF-16 units: count only when the units are over.
  if (typeof v !== 'string' || v.length < charsMin || (v.length > charsMax && charCount(v) > charsMax)) {
    return `${field} must be a string of ${charsMin}..${charsMax} characters`;
  }
  return null;
}

function optStr(field: string, v: unknown, charsMax: number): Check {
  return v === null ? null : str(field, v, charsMax);
}

function name(field: string, v: unknown): Check {
  if (typeof v !== 'string' || !NAME_PATTERN.test(v)) return `${field} must match ${NAME_PATTERN.source}`;
  return null;
}

const id = (field: string, v: unknown): Check => str(field, v, ID_CHARS_MAX, 1);

function token(field: string, v: unknown): Check {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) return `${field} must be a positive integer`;
  return null;
}

/** waitId is present exactly when the command may queue. */
function waitFields(waitMs: unknown, waitId: unknown): Check {
  const range = intIn('waitMs', waitMs, 0, WAIT_MS_MAX);
  if (range) return range;
  if (waitMs === 0) return waitId === null ? null : 'waitId must be null when waitMs is 0';
  return id('waitId', waitId);
}

function stringArray(field: string, v: unknown, each: (field: string, v: unknown) => Check): Check {
  if (!Array.isArray(v)) return `${field} must be an array`;
  for (const item of v) {
    const bad = each(field, item);
    if (bad) return bad;
  }
  return null;
}

function holdRefs(field: string, v: unknown): Check {
  return stringArray(field, v, (f, h) => (isObject(h) ? (name(`${f}.name`, h.name) ?? token(`${f}.fencingToken`, h.fencingToken)) : `${f} must hold objects`));
}

/** Exactly one of sessionId and ttlMs, as for every hold. */
function holdLease(sessionId: unknown, ttlMs: unknown): Check {
  return first(
    () => ((sessionId === null) === (ttlMs === null) ? 'exactly one of sessionId and ttlMs is required' : null),
    () => (sessionId === null ? null : id('sessionId', sessionId)),
    () => (ttlMs === null ? null : intIn('ttlMs', ttlMs, HOLD_TTL_MS_MIN, HOLD_TTL_MS_MAX)),
  );
}

function modeAndLimit(field: string, mode: unknown, limit: unknown): Check {
  return first(
    () => (mode === 'exclusive' || mode === 'shared' ? null : `${field}mode must be "exclusive" or "shared"`),
    () => intIn(`${field}limit`, limit, 1, HOLDERS_PER_LOCK_MAX),
    () => (mode === 'shared' && limit !== 1 ? `${field}limit applies to exclusive locks only` : null),
  );
}

/** 2..64 distinct names, each with its mode and limit. */
function lockSetLocks(v: unknown): Check {
  if (!Array.isArray(v) || v.length < LOCK_SET_NAMES_MIN || v.length > LOCK_SET_NAMES_MAX) {
    return `locks must be an array of ${LOCK_SET_NAMES_MIN}..${LOCK_SET_NAMES_MAX} locks`;
  }
  const names = new Set<unknown>();
  for (const l of v) {
    if (!isObject(l)) return 'locks must hold objects';
    const bad = name('locks.name', l.name) ?? modeAndLimit('locks.', l.mode, l.limit);
    if (bad) return bad;
    if (names.has(l.name)) return `locks names ${String(l.name)} twice: a set takes distinct names`;
    names.add(l.name);
  }
  return null;
}

/** 1..64 holds, no (name, fencingToken) twice. */
function lockSetHolds(v: unknown): Check {
  const bad = holdRefs('holds', v);
  if (bad) return bad;
  const holds = v as Array<{ name: string; fencingToken: number }>;
  if (holds.length < 1 || holds.length > LOCK_SET_NAMES_MAX) return `holds must name 1..${LOCK_SET_NAMES_MAX} holds`;
  const seen = new Set(holds.map((h) => `${h.fencingToken}\u0000${h.name}`));
  return seen.size === holds.length ? null : 'holds names one hold twice';
}

/** A token's prefixes: 0..TOKEN_PREFIXES_MAX starts of names (none: every name). */
function prefixes(v: unknown): Check {
  if (!Array.isArray(v) || v.length > TOKEN_PREFIXES_MAX) return `prefixes must be an array of at most ${TOKEN_PREFIXES_MAX}`;
  return stringArray('prefixes', v, (field, p) => (typeof p === 'string' && PREFIX_PATTERN.test(p) ? null : `${field} must each match ${PREFIX_PATTERN.source}`));
}

function first(...checks: Array<() => Check>): Check {
  for (const check of checks) {
    const bad = check();
    if (bad) return bad;
  }
  return null;
}

export function validateCommand(command: unknown): Check {
  if (!isObject(command)) return 'command must be an object';
  const c = command as Record<string, unknown> & { type: LockCommand['type'] };
  switch (c.type) {
    case 'session.create':
      return first(
        () => id('sessionId', c.sessionId),
        () => intIn('ttlMs', c.ttlMs, SESSION_TTL_MS_MIN, SESSION_TTL_MS_MAX),
        () => str('name', c.name, SESSION_NAME_CHARS_MAX),
        () => intIn('lockDelayMs', c.lockDelayMs, 0, LOCK_DELAY_MS_MAX),
      );
    case 'session.delete':
      return id('sessionId', c.sessionId);
    case 'lock.acquire':
      return first(
        () => name('name', c.name),
        () => holdLease(c.sessionId, c.ttlMs),
        () => waitFields(c.waitMs, c.waitId),
        () => modeAndLimit('', c.mode, c.limit),
        () => optStr('owner', c.owner, OWNER_CHARS_MAX),
        () => optStr('value', c.value, VALUE_CHARS_MAX),
      );
    case 'lockSet.acquire':
      return first(
        () => lockSetLocks(c.locks),
        () => holdLease(c.sessionId, c.ttlMs),
        () => waitFields(c.waitMs, c.waitId),
        () => optStr('owner', c.owner, OWNER_CHARS_MAX),
        () => optStr('value', c.value, VALUE_CHARS_MAX),
      );
    case 'lockSet.release':
      return lockSetHolds(c.holds);
    case 'lock.release':
      return first(
        () => name('name', c.name),
        () => token('fencingToken', c.fencingToken),
      );
    case 'lock.extend':
      return first(
        () => name('name', c.name),
        () => token('fencingToken', c.fencingToken),
        () => (c.ttlMs === null ? null : intIn('ttlMs', c.ttlMs, HOLD_TTL_MS_MIN, HOLD_TTL_MS_MAX)),
      );
    case 'election.campaign':
      return first(
        () => name('name', c.name),
        () => id('sessionId', c.sessionId),
        () => str('value', c.value, VALUE_CHARS_MAX),
        () => waitFields(c.waitMs, c.waitId),
      );
    case 'election.proclaim':
      return first(
        () => name('name', c.name),
        () => token('term', c.term),
        () => str('value', c.value, VALUE_CHARS_MAX),
      );
    case 'election.resign':
      return first(
        () => name('name', c.name),
        () => token('term', c.term),
      );
    case 'token.create':
      return first(
        () => (typeof c.id === 'string' && TOKEN_ID_PATTERN.test(c.id) ? null : `id must match ${TOKEN_ID_PATTERN.source}`),
        () => str('name', c.name, TOKEN_NAME_CHARS_MAX, 1),
        () => ((ROLES as readonly unknown[]).includes(c.role) ? null : `role must be one of ${ROLES.join(', ')}`),
        () => prefixes(c.prefixes),
        () => (c.role === 'admin' && Array.isArray(c.prefixes) && c.prefixes.length > 0 ? 'an admin token may do everything: it takes no prefixes' : null),
        () => (typeof c.secretHash === 'string' && SECRET_HASH_PATTERN.test(c.secretHash) ? null : 'secretHash must be 64 lower-case hex digits'),
      );
    case 'token.revoke':
      return typeof c.id === 'string' && c.id.length >= 1 && c.id.length <= ID_CHARS_MAX ? null : `id must be a string of 1..${ID_CHARS_MAX} characters`;
    case 'wait.cancel':
      return first(
        () => stringArray('waitIds', c.waitIds, id),
        () => (c.reason === 'timeout' || c.reason === 'abandoned' ? null : 'reason must be "timeout" or "abandoned"'),
      );
    case 'expire':
      return first(
        () => stringArray('sessionIds', c.sessionIds, id),
        () => holdRefs('holds', c.holds),
        () => stringArray('lockDelays', c.lockDelays, name),
      );
    default:
      return 'unknown command type';
  }
}

/** Printable ASCII, as the contract requires of an Idempotency-Key. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export function validateEnvelope(proposal: unknown): Check {
  if (!isObject(proposal)) return 'proposal must be an object';
  if (typeof proposal.nowMs !== 'number' || !Number.isFinite(proposal.nowMs)) return 'nowMs must be a finite number';
  const auth = proposal.auth as LockProposal['auth'];
  if (auth !== null && auth !== undefined && (!isObject(auth) || id('auth.tokenId', auth.tokenId) !== null)) return 'auth must be null or {tokenId}';
  const idem = proposal.idempotency as LockProposal['idempotency'] | undefined;
  if (idem === null || idem === undefined) return null;
  if (!isObject(idem)) return 'idempotency must be an object or null';
  return first(
    () => str('Idempotency-Key', idem.key, IDEMPOTENCY_KEY_CHARS_MAX, 1),
    () => (PRINTABLE_ASCII.test(idem.key) ? null : 'Idempotency-Key must be printable ASCII'),
    () => str('idempotency.method', idem.method, IDEMPOTENCY_METHOD_CHARS_MAX, 1),
    () => str('idempotency.path', idem.path, IDEMPOTENCY_PATH_CHARS_MAX, 1),
  );
}
