// The shape and range of every one of the ten Raft message types, checked on
// receipt before the core sees anything. A member is trusted to be ours, not
// to be bug-free: whatever it sends, the core gets either a message whose every
// field has the type and range the core relies on, or nothing (a PeerMessageError,
// which closes that connection). The message handed on is rebuilt from the
// checked fields only, so nothing unchecked rides along.
//
// What can be checked from the message alone is checked here (types, ranges,
// an Append's entries contiguous with terms that never go backwards, a
// snapshot's configuration with voters). What needs the receiver's state (an
// index beyond what was sent, a term too far ahead, who the leader is) is the
// core's (src/raft/guard.ts).
import type { ConfChange, ConfChangeKind, ConfState, Entry, LogIndex, Message, MessageType, NodeId, SnapshotMeta, Term } from '../raft/types.js';
import type { CallAnswer, ForwardCall, ForwardRequest, ForwardResponse } from './api.js';
import {
  CONTEXT_BYTES_MAX,
  FORWARD_BODY_CHARS_MAX,
  FORWARD_HEADER_CHARS_MAX,
  FORWARD_HEADERS_MAX,
  FORWARD_RESPONSE_BYTES_MAX,
  FORWARD_URL_CHARS_MAX,
  LOG_NUMBER_MAX,
  MEMBERS_MAX,
  READ_CONTEXT_CHARS_MAX,
} from './limits.js';

export class PeerMessageError extends Error {
  readonly code = 'peer_message_invalid';
}

/** Node ids are printable, without spaces, and short; anything else is not a peer of ours. */
const PLAUSIBLE_NODE_ID = /^[\x21-\x7e]{1,128}$/;

export function isPlausibleNodeId(v: unknown): v is NodeId {
  return typeof v === 'string' && PLAUSIBLE_NODE_ID.test(v);
}

export const MESSAGE_TYPES: readonly MessageType[] = [
  'PreVote', 'PreVoteResp', 'Vote', 'VoteResp', 'Append', 'AppendResp', 'Heartbeat', 'HeartbeatResp', 'InstallSnapshot', 'TimeoutNow',
];
const MESSAGE_TYPE_SET: ReadonlySet<string> = new Set(MESSAGE_TYPES);
const CONF_CHANGE_KINDS: ReadonlySet<string> = new Set<ConfChangeKind>(['addVoter', 'addLearner', 'removeNode']);

type Fields = Record<string, unknown>;

function fail(what: string): never {
  throw new PeerMessageError(what);
}
export function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function isLogNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LOG_NUMBER_MAX;
}
/** A term or log index: an integer in [0, LOG_NUMBER_MAX]. */
function logNumber(v: unknown, what: string): number {
  if (!isLogNumber(v)) fail(`${what} is not an integer in [0, ${LOG_NUMBER_MAX}]`);
  return v;
}
const idx = (v: unknown, what: string): LogIndex => logNumber(v, what) as LogIndex;
const trm = (v: unknown, what: string): Term => logNumber(v, what) as Term;
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(`${what} is not a boolean`);
  return v;
}
function nodeIdOf(v: unknown, what: string): NodeId {
  if (!isPlausibleNodeId(v)) fail(`${what} is not a node id`);
  return v;
}
function bytes(v: unknown, what: string, max = Infinity): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} is not bytes`);
  if (v.length > max) fail(`${what} is ${v.length} bytes, more than ${max}`);
  return v;
}
function readContext(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > READ_CONTEXT_CHARS_MAX) fail(`readContext is not null or a string of at most ${READ_CONTEXT_CHARS_MAX} characters`);
  return v;
}
function nodeIds(v: unknown, what: string): NodeId[] {
  if (!Array.isArray(v) || v.length > MEMBERS_MAX) fail(`${what} is not a list of at most ${MEMBERS_MAX} node ids`);
  const ids = v.map((x, i) => nodeIdOf(x, `${what}[${i}]`));
  if (new Set(ids).size !== ids.length) fail(`${what} repeats a node id`);
  return ids;
}

export function checkConfChange(v: unknown, what = 'change'): ConfChange {
  if (!isObject(v)) fail(`${what} is not a map`);
  if (typeof v.kind !== 'string' || !CONF_CHANGE_KINDS.has(v.kind)) fail(`${what} has an unknown kind`);
  const change: ConfChange = { kind: v.kind as ConfChangeKind, node: nodeIdOf(v.node, `${what}.node`) };
  if (v.context !== undefined) change.context = bytes(v.context, `${what}.context`, CONTEXT_BYTES_MAX);
  return change;
}

export function checkConfState(v: unknown, what = 'conf'): ConfState {
  if (!isObject(v)) fail(`${what} is not a map`);
  const voters = nodeIds(v.voters, `${what}.voters`);
  const learners = nodeIds(v.learners, `${what}.learners`);
  // A configuration without voters can never elect a leader again.
  if (voters.length === 0) fail(`${what} has no voters`);
  if (learners.some((l) => voters.includes(l))) fail(`${what} has a node that is both voter and learner`);
  const conf: ConfState = { voters, learners };
  if (v.removed !== undefined) {
    const removed = nodeIds(v.removed, `${what}.removed`);
    if (removed.some((id) => voters.includes(id) || learners.includes(id))) fail(`${what} has a node that is both a member and removed`);
    if (removed.length > 0) conf.removed = removed;
  }
  return conf;
}

function snapshotMeta(v: unknown, messageTerm: Term): SnapshotMeta {
  if (!isObject(v)) fail('snapshot.meta is not a map');
  const meta: SnapshotMeta = {
    index: idx(v.index, 'snapshot.meta.index'),
    term: trm(v.term, 'snapshot.meta.term'),
    conf: checkConfState(v.conf, 'snapshot.meta.conf'),
  };
  if (meta.index < 1 || meta.term < 1) fail('snapshot.meta index and term must be at least 1');
  if (meta.term > messageTerm) fail('snapshot.meta.term is ahead of the message term');
  if (v.memberContext !== undefined) {
    if (!isObject(v.memberContext)) fail('snapshot.meta.memberContext is not a map');
    const entries = Object.entries(v.memberContext);
    if (entries.length > MEMBERS_MAX) fail('snapshot.meta.memberContext has too many members');
    // fromEntries defines own properties: a key such as "__proto__" stays a plain (implausible-to-matter) key.
    meta.memberContext = Object.fromEntries(
      entries.map(([id, b]) => [nodeIdOf(id, 'snapshot.meta.memberContext key'), bytes(b, `memberContext of ${id}`, CONTEXT_BYTES_MAX)]),
    );
  }
  return meta;
}

function entriesOf(v: Fields, prevLogIndex: LogIndex, prevLogTerm: Term, messageTerm: Term): Entry[] {
  if (!Array.isArray(v.entries)) fail('entries is not a list');
  let lastTerm = prevLogTerm;
  return v.entries.map((e: unknown, i): Entry => {
    // Field names are built only for a failure: per entry and field they were an allocation each.
    if (!isObject(e)) fail(`entries[${i}] is not a map`);
    const index = e.index as LogIndex;
    const t = e.term as Term;
    if (!isLogNumber(index)) logNumber(index, `entries[${i}].index`);
    if (!isLogNumber(t)) logNumber(t, `entries[${i}].term`);
    // Log matching (§5.3): an Append carries a contiguous run after prevLogIndex, whose terms never go
    // backwards and never pass the leader's own term.
    if (index !== prevLogIndex + 1 + i) fail(`entries[${i}].index ${index} is not ${prevLogIndex + 1 + i}`);
    if (t < lastTerm) fail(`entries[${i}].term ${t} goes back from ${lastTerm}`);
    if (t > messageTerm) fail(`entries[${i}].term ${t} is ahead of the message term ${messageTerm}`);
    if (t < 1) fail(`entries[${i}].term is 0`);
    lastTerm = t;
    switch (e.type) {
      case 'normal':
        if (!(e.data instanceof Uint8Array)) bytes(e.data, `entries[${i}].data`);
        return { index, term: t, type: 'normal', data: e.data as Uint8Array };
      case 'noop':
        return { index, term: t, type: 'noop' };
      case 'config':
        return { index, term: t, type: 'config', change: checkConfChange(e.change, `entries[${i}].change`) };
      default:
        return fail(`entries[${i}] has an unknown type`);
    }
  });
}

/**
 * Check one received message and rebuild it from its checked fields. Throws
 * PeerMessageError naming the first field that is wrong.
 */
export function checkMessage(v: unknown): Message {
  if (!isObject(v) || typeof v.type !== 'string' || !MESSAGE_TYPE_SET.has(v.type)) fail('not a message of a known type');
  const type = v.type as MessageType;
  try {
    return checkFields(type, v);
  } catch (err) {
    if (err instanceof PeerMessageError) throw new PeerMessageError(`malformed ${type}: ${err.message}`);
    throw err;
  }
}

function checkFields(type: MessageType, v: Fields): Message {
  const from = nodeIdOf(v.from, 'from');
  const to = nodeIdOf(v.to, 'to');
  if (from === to) fail('from and to are the same node');
  const term = trm(v.term, 'term');
  // Each message is one object literal, not `{ ...base, type, ... }`: on Node 20 spreading a
  // fresh literal and adding fields took ~3.6 µs per message (most of this function's cost in
  // the issue 12 profile); a literal takes ~50 ns.
  switch (type) {
    case 'PreVote':
    case 'Vote': {
      const lastLogIndex = idx(v.lastLogIndex, 'lastLogIndex');
      const lastLogTerm = trm(v.lastLogTerm, 'lastLogTerm');
      if (lastLogTerm > term) fail('lastLogTerm is ahead of the term asked for');
      if (term < 1) fail('a campaign for term 0');
      return type === 'PreVote'
        ? { from, to, term, type, lastLogIndex, lastLogTerm }
        : { from, to, term, type, lastLogIndex, lastLogTerm, transfer: bool(v.transfer, 'transfer') };
    }
    case 'PreVoteResp':
    case 'VoteResp':
      return { from, to, term, type, reject: bool(v.reject, 'reject') };
    case 'Append': {
      if (term < 1) fail('an Append at term 0');
      const prevLogIndex = idx(v.prevLogIndex, 'prevLogIndex');
      const prevLogTerm = trm(v.prevLogTerm, 'prevLogTerm');
      if (prevLogTerm > term) fail('prevLogTerm is ahead of the message term');
      const commit = idx(v.commit, 'commit');
      const entries = entriesOf(v, prevLogIndex, prevLogTerm, term);
      if (prevLogIndex + entries.length > LOG_NUMBER_MAX) fail('entries run past the largest index');
      return { from, to, term, type, prevLogIndex, prevLogTerm, entries, commit };
    }
    case 'AppendResp':
      return {
        from,
        to,
        term,
        type,
        reject: bool(v.reject, 'reject'),
        index: idx(v.index, 'index'),
        rejectHint: idx(v.rejectHint, 'rejectHint'),
        rejectHintTerm: trm(v.rejectHintTerm, 'rejectHintTerm'),
      };
    case 'Heartbeat':
      if (term < 1) fail('a Heartbeat at term 0');
      return { from, to, term, type, commit: idx(v.commit, 'commit'), readContext: readContext(v.readContext) };
    case 'HeartbeatResp':
      return { from, to, term, type, readContext: readContext(v.readContext) };
    case 'InstallSnapshot': {
      if (term < 1) fail('an InstallSnapshot at term 0');
      const s = v.snapshot;
      if (!isObject(s)) fail('snapshot is not a map');
      return { from, to, term, type, snapshot: { meta: snapshotMeta(s.meta, term), data: bytes(s.data, 'snapshot.data') } };
    }
    case 'TimeoutNow':
      if (term < 1) fail('a TimeoutNow at term 0');
      return { from, to, term, type };
  }
}

// Forwarded client requests and their answers (ForwardRequest, ForwardResponse).
// The leader hands the request to its own HTTP routes, which check the body,
// the token and the permissions as for any client; here only the shape and
// the sizes, so that nothing unbounded or mistyped reaches them.

const FORWARD_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** A lower-case HTTP token: what a header name must be. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** A header value without control characters (no CR/LF smuggling). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A request target in origin form: one leading slash, printable, no fragment. */
const ORIGIN_FORM = /^\/(?!\/)[\x21-\x7e]*$/;

function headersOf(v: unknown, what: string): Record<string, string> {
  if (!isObject(v)) fail(`${what} is not a map`);
  const entries = Object.entries(v);
  if (entries.length > FORWARD_HEADERS_MAX) fail(`${what} has more than ${FORWARD_HEADERS_MAX} headers`);
  // A plain object built directly (copying a null-prototype one with a spread cost more than the
  // checks); a header named __proto__ is defined as an own field, never set as the prototype.
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) fail(`${what} has a header name that is not a lower-case token`);
    if (typeof value !== 'string' || value.length > FORWARD_HEADER_CHARS_MAX || !HEADER_VALUE.test(value)) {
      fail(`${what}.${name} is not a header value of at most ${FORWARD_HEADER_CHARS_MAX} characters`);
    }
    if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
    else headers[name] = value;
  }
  return headers;
}

/** An operation's name: lower case, dotted (`lock.execute`). */
const CALL_NAME = /^[a-z][a-z.-]{0,63}$/;

/**
 * Check a forwarded request and rebuild it from its checked fields; throws PeerMessageError.
 * A call's `args` is passed on as decoded: the operation that takes it checks it before any use.
 */
export function checkForwardRequest(v: unknown): ForwardRequest {
  if (!isObject(v)) fail('forwarded request is not a map');
  if (v.call !== undefined) return checkForwardCall(v);
  if (typeof v.method !== 'string' || !FORWARD_METHODS.has(v.method)) fail('forwarded request has an unknown method');
  if (typeof v.url !== 'string' || v.url.length > FORWARD_URL_CHARS_MAX || !ORIGIN_FORM.test(v.url)) {
    fail(`forwarded request url is not a path and query of at most ${FORWARD_URL_CHARS_MAX} characters`);
  }
  const body = v.body;
  if (body !== null && (typeof body !== 'string' || body.length > FORWARD_BODY_CHARS_MAX)) {
    fail(`forwarded request body is not null or a string of at most ${FORWARD_BODY_CHARS_MAX} characters`);
  }
  return { method: v.method, url: v.url, headers: headersOf(v.headers, 'forwarded request headers'), body };
}

function checkForwardCall(v: Record<string, unknown>): ForwardCall {
  if (typeof v.call !== 'string' || !CALL_NAME.test(v.call)) fail('forwarded call has no plausible operation name');
  if (v.args === undefined) fail('forwarded call has no args');
  return { call: v.call, args: v.args };
}

/**
 * Check a forwarded answer and rebuild it from its checked fields; throws PeerMessageError.
 * A call's answer `value` is passed on as decoded: the route that asked serializes it by its own schema.
 */
export function checkForwardResponse(v: unknown): ForwardResponse {
  if (!isObject(v)) fail('forwarded answer is not a map');
  if (typeof v.status !== 'number' || !Number.isInteger(v.status) || v.status < 100 || v.status > 599) fail('forwarded answer status is not an HTTP status');
  if (v.value !== undefined) {
    const answer: CallAnswer = { status: v.status, headers: headersOf(v.headers, 'call answer headers'), value: v.value };
    return answer;
  }
  return {
    status: v.status,
    headers: headersOf(v.headers, 'forwarded answer headers'),
    body: bytes(v.body, 'forwarded answer body', FORWARD_RESPONSE_BYTES_MAX),
  };
}
