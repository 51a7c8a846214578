// checkMessage (src/transport/validate.ts): every one of the ten message types,
// fuzzed. A well-formed message comes back field for field; the same message
// with any one field broken is refused with PeerMessageError (never another
// error, never a message); arbitrary junk is refused the same way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Message, MessageType } from '../../src/raft/types.js';
import {
  FORWARD_BODY_CHARS_MAX,
  FORWARD_HEADER_CHARS_MAX,
  FORWARD_HEADERS_MAX,
  FORWARD_URL_CHARS_MAX,
  LOG_NUMBER_MAX,
  READ_CONTEXT_CHARS_MAX,
} from '../../src/transport/limits.js';
import { MESSAGE_TYPES, PeerMessageError, checkForwardRequest, checkForwardResponse, checkMessage } from '../../src/transport/validate.js';
import type { HttpForwardRequest } from '../../src/transport/api.js';

const RUNS = { numRuns: 200 };

const id = fc.constantFrom('n1', 'n2', 'n3', 'node-4', 'a'.repeat(128));
const small = fc.integer({ min: 0, max: 1000 });
const positive = fc.integer({ min: 1, max: 1000 });
const bytes = fc.uint8Array({ maxLength: 16 });
const readContext = fc.option(fc.string({ maxLength: 40 }), { nil: null });

/** Addressing and a term >= 1. */
const base = fc
  .tuple(id, id, positive)
  .filter(([from, to]) => from !== to)
  .map(([from, to, term]) => ({ from, to, term }));

function entriesAfter(prevLogIndex: number, prevLogTerm: number, term: number): fc.Arbitrary<Entry[]> {
  const one = fc.oneof(
    fc.record({ type: fc.constant('normal' as const), data: bytes }),
    fc.record({ type: fc.constant('noop' as const) }),
    fc.record({
      type: fc.constant('config' as const),
      change: fc.oneof(
        fc.record({ kind: fc.constantFrom('addVoter' as const, 'addLearner' as const), node: id, context: bytes }),
        fc.record({ kind: fc.constant('removeNode' as const), node: id }),
      ),
    }),
  );
  return fc.array(fc.tuple(one, fc.integer({ min: 0, max: 2 })), { maxLength: 6 }).map((items) => {
    let t = Math.max(1, prevLogTerm);
    return items.map(([payload, bump], i) => {
      t = Math.min(term, t + bump);
      return { index: prevLogIndex + 1 + i, term: t, ...payload } as Entry;
    });
  });
}

const generated: Record<MessageType, fc.Arbitrary<Message>> = {
  PreVote: fc.tuple(base, small, small).map(([b, i, t]) => ({ ...b, type: 'PreVote', lastLogIndex: i, lastLogTerm: Math.min(t, b.term) }) as Message),
  Vote: fc
    .tuple(base, small, small, fc.boolean())
    .map(([b, i, t, transfer]) => ({ ...b, type: 'Vote', lastLogIndex: i, lastLogTerm: Math.min(t, b.term), transfer }) as Message),
  PreVoteResp: fc.tuple(base, fc.boolean()).map(([b, reject]) => ({ ...b, type: 'PreVoteResp', reject }) as Message),
  VoteResp: fc.tuple(base, fc.boolean()).map(([b, reject]) => ({ ...b, type: 'VoteResp', reject }) as Message),
  Append: fc
    .tuple(base, small, small, small)
    .chain(([b, prevLogIndex, prevTerm, commit]) => {
      const prevLogTerm = prevLogIndex === 0 ? 0 : Math.min(prevTerm, b.term);
      return entriesAfter(prevLogIndex, prevLogTerm, b.term).map(
        (entries) => ({ ...b, type: 'Append', prevLogIndex, prevLogTerm, entries, commit }) as Message,
      );
    }),
  AppendResp: fc
    .tuple(base, fc.boolean(), small, small, small)
    .map(([b, reject, index, rejectHint, rejectHintTerm]) => ({ ...b, type: 'AppendResp', reject, index, rejectHint, rejectHintTerm }) as Message),
  Heartbeat: fc.tuple(base, small, readContext).map(([b, commit, rc]) => ({ ...b, type: 'Heartbeat', commit, readContext: rc }) as Message),
  HeartbeatResp: fc.tuple(base, readContext).map(([b, rc]) => ({ ...b, type: 'HeartbeatResp', readContext: rc }) as Message),
  InstallSnapshot: fc
    .tuple(base, positive, positive, fc.uniqueArray(id, { minLength: 1, maxLength: 5 }), fc.nat(2), bytes)
    .map(([b, index, t, ids, removedCount, data]) => {
      // Members and removed ids are disjoint; `removed` is absent when empty.
      const removed = ids.length > 1 ? ids.slice(ids.length - Math.min(removedCount, ids.length - 1)) : [];
      const [voter, ...learners] = ids.slice(0, ids.length - removed.length);
      const conf = removed.length > 0 ? { voters: [voter], learners, removed } : { voters: [voter], learners };
      return {
        ...b,
        type: 'InstallSnapshot',
        snapshot: { meta: { index, term: Math.min(t, b.term), conf }, data },
      } as Message;
    }),
  TimeoutNow: base.map((b) => ({ ...b, type: 'TimeoutNow' }) as Message),
};

// Plain objects, as msgpack decodes them (fc.record may build null-prototype ones).
const valid = Object.fromEntries(
  Object.entries(generated).map(([type, arb]) => [type, arb.map((m) => structuredClone(m))]),
) as Record<MessageType, fc.Arbitrary<Message>>;

// Values no field of a message may take, whatever its type.
const notALogNumber = fc.constantFrom<unknown>(-1, 1.5, LOG_NUMBER_MAX + 1, 2 ** 53 - 1, Number.NaN, Infinity, '3', null, undefined, true, {}, []);
const notABoolean = fc.constantFrom<unknown>(0, 1, 'true', null, undefined, {}, []);
const notANodeId = fc.constantFrom<unknown>('', 'a b', 'x'.repeat(129), 'é', 7, null, undefined, {}, []);
const notAReadContext = fc.constantFrom<unknown>(7, undefined, {}, [], new Uint8Array(1), 'r'.repeat(READ_CONTEXT_CHARS_MAX + 1));

type Breaker = (m: Record<string, unknown>) => fc.Arbitrary<Record<string, unknown>>;
const setField = (field: string, bad: fc.Arbitrary<unknown>): Breaker => (m) => bad.map((v) => ({ ...m, [field]: v }));
const common: Breaker[] = [
  setField('from', notANodeId),
  setField('to', notANodeId),
  setField('term', notALogNumber),
  (m) => fc.constant({ ...m, to: m.from }),
  (m) => fc.constant({ ...m, type: 'Append2' }),
];

/** Breaking the Append's entries: each is a real bug a member could have. */
const appendBreakers: Breaker[] = [
  setField('prevLogIndex', notALogNumber),
  setField('prevLogTerm', notALogNumber),
  setField('commit', notALogNumber),
  setField('entries', fc.constantFrom<unknown>(null, {}, 'x', undefined)),
  (m) => fc.constant({ ...m, prevLogTerm: (m.term as number) + 1 }),
  (m) => fc.constant({ ...m, entries: [...(m.entries as Entry[]), { index: (m.prevLogIndex as number) + 50, term: m.term, type: 'noop' }] }),
  // Terms that go backwards inside the Append.
  (m) => fc.constant({ ...m, term: 5, prevLogTerm: 0, entries: [{ index: (m.prevLogIndex as number) + 1, term: 3, type: 'noop' }, { index: (m.prevLogIndex as number) + 2, term: 2, type: 'noop' }] }),
  // An entry whose term is ahead of its leader's.
  (m) => fc.constant({ ...m, entries: [{ index: (m.prevLogIndex as number) + 1, term: (m.term as number) + 1, type: 'noop' }] }),
  // A configuration change of a kind nobody knows.
  (m) => fc.constant({ ...m, entries: [{ index: (m.prevLogIndex as number) + 1, term: m.term, type: 'config', change: { kind: 'promoteEveryone', node: 'n1' } }] }),
  (m) => fc.constant({ ...m, entries: [{ index: (m.prevLogIndex as number) + 1, term: m.term, type: 'config', change: { kind: 'addVoter', node: '' } }] }),
  (m) => fc.constant({ ...m, entries: [{ index: (m.prevLogIndex as number) + 1, term: m.term, type: 'normal', data: 'not bytes' }] }),
  (m) => fc.constant({ ...m, entries: [{ index: (m.prevLogIndex as number) + 1, term: m.term, type: 'mystery' }] }),
];

const snapshotBreakers: Breaker[] = [
  setField('snapshot', fc.constantFrom<unknown>(null, {}, 'x', undefined)),
  (m) => notALogNumber.map((v) => withMeta(m, { index: v })),
  (m) => notALogNumber.map((v) => withMeta(m, { term: v })),
  (m) => fc.constant(withMeta(m, { term: (m.term as number) + 1 })),
  // A snapshot whose configuration has no voters: the cluster could never elect again.
  (m) => fc.constant(withMeta(m, { conf: { voters: [], learners: [] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1', 'n1'], learners: [] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1'], learners: ['n1'] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: 'n1', learners: [] } })),
  // Removed ids: a list of node ids, none repeated, none a member.
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1'], learners: ['n2'], removed: ['n2'] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1'], learners: [], removed: ['n1'] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1'], learners: [], removed: ['n3', 'n3'] } })),
  (m) => notANodeId.map((v) => withMeta(m, { conf: { voters: ['n1'], learners: [], removed: [v] } })),
  (m) => fc.constant(withMeta(m, { conf: { voters: ['n1'], learners: [], removed: 'n3' } })),
  (m) => fc.constant(withMeta(m, { memberContext: { n1: 'not bytes' } })),
  (m) => fc.constant({ ...m, snapshot: { ...(m.snapshot as object), data: [1, 2] } }),
];
function withMeta(m: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const s = m.snapshot as { meta: object; data: Uint8Array };
  return { ...m, snapshot: { ...s, meta: { ...s.meta, ...patch } } };
}

const breakers: Record<MessageType, Breaker[]> = {
  PreVote: [setField('lastLogIndex', notALogNumber), setField('lastLogTerm', notALogNumber), (m) => fc.constant({ ...m, lastLogTerm: (m.term as number) + 1 })],
  Vote: [setField('lastLogIndex', notALogNumber), setField('lastLogTerm', notALogNumber), setField('transfer', notABoolean)],
  PreVoteResp: [setField('reject', notABoolean)],
  VoteResp: [setField('reject', notABoolean)],
  Append: appendBreakers,
  AppendResp: [setField('reject', notABoolean), setField('index', notALogNumber), setField('rejectHint', notALogNumber), setField('rejectHintTerm', notALogNumber)],
  Heartbeat: [setField('commit', notALogNumber), setField('readContext', notAReadContext)],
  HeartbeatResp: [setField('readContext', notAReadContext)],
  InstallSnapshot: snapshotBreakers,
  TimeoutNow: [(m) => fc.constant({ ...m, term: 0 })],
};

describe.each(MESSAGE_TYPES)('checkMessage: %s', (type) => {
  it('gives back a well-formed message field for field', () => {
    fc.assert(
      fc.property(valid[type], (m) => {
        expect(checkMessage(structuredClone(m))).toStrictEqual(m);
      }),
      RUNS,
    );
  });

  it('refuses it with any one field broken, and only with PeerMessageError', () => {
    const broken = valid[type].chain((m) =>
      fc.constantFrom(...common, ...breakers[type]).chain((breaker) => breaker(m as unknown as Record<string, unknown>)),
    );
    fc.assert(
      fc.property(broken, (m) => {
        expect(() => checkMessage(m)).toThrow(PeerMessageError);
      }),
      RUNS,
    );
  });

  it('drops fields it does not know rather than passing them on', () => {
    fc.assert(
      fc.property(valid[type], (m) => {
        const checked = checkMessage({ ...m, extra: 'x', __proto__: { polluted: true } });
        expect(checked).toStrictEqual(m);
      }),
      { numRuns: 20 },
    );
  });
});

describe('checkMessage on junk', () => {
  it('anything at all is a message or a PeerMessageError, never a crash', () => {
    const junk = fc.oneof(
      fc.anything({ withTypedArray: true, withNullPrototype: true }),
      fc.record({ type: fc.constantFrom(...MESSAGE_TYPES), from: id, to: id, term: fc.anything() }, { requiredKeys: [] }),
      fc.constantFrom(...MESSAGE_TYPES).chain((type) => fc.dictionary(fc.string(), fc.anything({ withTypedArray: true })).map((d) => ({ ...d, type }))),
    );
    fc.assert(
      fc.property(junk, (v) => {
        try {
          checkMessage(v);
        } catch (err) {
          expect(err).toBeInstanceOf(PeerMessageError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// Forwarded client requests and their answers (issue 12): the same three properties.
const headerName = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const headerValue = fc.string({ maxLength: 40 }).map((v) => v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ''));
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 8 }).map((d) => ({ ...d }));
const target = fc.stringMatching(/^\/[a-z0-9/?=&._-]{0,60}$/).filter((u) => !u.startsWith('//'));
const forwardRequest = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'),
  url: target,
  headers,
  body: fc.option(fc.string({ maxLength: 80 }), { nil: null }),
});
const forwardResponse = fc.record({ status: fc.integer({ min: 100, max: 599 }), headers, body: bytes });

const notHeaders = fc.constantFrom<unknown>(
  null, [], 'x', { 'Upper-Case': 'v' }, { 'with space': 'v' }, { a: 7 }, { a: 'line\nbreak' }, { a: 'x'.repeat(FORWARD_HEADER_CHARS_MAX + 1) },
  Object.fromEntries(Array.from({ length: FORWARD_HEADERS_MAX + 1 }, (_, i) => [`h${i}`, 'v'])),
);
const requestBreakers: Breaker[] = [
  setField('method', fc.constantFrom<unknown>('TRACE', 'get', '', 7, null, undefined)),
  setField('url', fc.constantFrom<unknown>('', 'v1/locks', '//host/v1', 'http://host/v1', '/a b', '/é', '/a\u0000b', `/${'a'.repeat(FORWARD_URL_CHARS_MAX)}`, 7, null)),
  setField('headers', notHeaders),
  setField('body', fc.constantFrom<unknown>(7, undefined, {}, new Uint8Array(1), 'b'.repeat(FORWARD_BODY_CHARS_MAX + 1))),
];
const responseBreakers: Breaker[] = [
  setField('status', fc.constantFrom<unknown>(99, 600, 200.5, '200', null, undefined)),
  setField('headers', notHeaders),
  setField('body', fc.constantFrom<unknown>('text', null, undefined, 7, [1, 2])),
];

describe.each([
  ['checkForwardRequest', checkForwardRequest, forwardRequest, requestBreakers],
  ['checkForwardResponse', checkForwardResponse, forwardResponse, responseBreakers],
] as const)('%s', (_name, check, valid, breakers) => {
  const plain = (valid as fc.Arbitrary<object>).map((v) => structuredClone(v) as Record<string, unknown>);
  it('gives back a well-formed value field for field', () => {
    fc.assert(
      fc.property(plain, (v) => {
        expect(check(structuredClone(v))).toStrictEqual(v);
      }),
      RUNS,
    );
  });
  it('refuses it with any one field broken, and only with PeerMessageError', () => {
    const broken = plain.chain((v) => fc.constantFrom(...breakers).chain((b) => b(v)));
    fc.assert(
      fc.property(broken, (v) => {
        expect(() => check(v)).toThrow(PeerMessageError);
      }),
      RUNS,
    );
  });
  it('anything at all is a value or a PeerMessageError, never a crash', () => {
    const junk = fc.oneof(
      fc.anything({ withTypedArray: true, withNullPrototype: true }),
      plain.chain((v) => fc.dictionary(fc.string(), fc.anything({ withTypedArray: true })).map((d) => ({ ...v, ...d }))),
    );
    fc.assert(
      fc.property(junk, (v) => {
        try {
          check(v);
        } catch (err) {
          expect(err).toBeInstanceOf(PeerMessageError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('forwarded headers named like Object.prototype fields', () => {
  it('stay own fields of a plain object; the prototype is never set', () => {
    const v = JSON.parse('{"method":"GET","url":"/v1/x","headers":{"__proto__":"p","constructor":"c"},"body":null}') as unknown;
    const checked = checkForwardRequest(v) as HttpForwardRequest;
    expect(Object.getPrototypeOf(checked.headers)).toBe(Object.prototype);
    expect(Object.entries(checked.headers)).toStrictEqual([['__proto__', 'p'], ['constructor', 'c']]);
  });
});

describe('forwarded calls and their answers', () => {
  it('a call keeps its name and args; a name that is not a plain dotted word, or no args, is refused', () => {
    expect(checkForwardRequest({ call: 'lock.execute', args: { a: 1 } })).toEqual({ call: 'lock.execute', args: { a: 1 } });
    for (const bad of [{ call: 'Lock.Execute', args: {} }, { call: '', args: {} }, { call: 'x'.repeat(65), args: {} }, { call: 7, args: {} }, { call: 'lock.execute' }]) {
      expect(() => checkForwardRequest(bad), JSON.stringify(bad).slice(0, 60)).toThrow(PeerMessageError);
    }
  });

  it('a call answer keeps its value; its status and headers are checked as an HTTP answer\'s', () => {
    expect(checkForwardResponse({ status: 200, headers: { 'x-lockstep-index': '7' }, value: { acquired: true } })).toEqual({ status: 200, headers: { 'x-lockstep-index': '7' }, value: { acquired: true } });
    expect(() => checkForwardResponse({ status: 99, headers: {}, value: null })).toThrow(PeerMessageError);
    expect(() => checkForwardResponse({ status: 200, headers: { 'Bad Name': 'x' }, value: null })).toThrow(PeerMessageError);
  });
});
