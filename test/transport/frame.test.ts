// Framing and wire decoding: split and concatenated chunks, limits, and
// garbage that must never throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logIndex, nodeId, term, type Message } from '../../src/raft/types.js';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameError, encodeFrame } from '../../src/transport/frame.js';
import { WireError, packWire, unpackWire } from '../../src/transport/wire.js';

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Cut `bytes` at the given positions (sorted, deduplicated, within range). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

describe('FrameDecoder', () => {
  it('yields every frame whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (payloads, cuts) => {
          const stream = concat(payloads.map((p) => encodeFrame(p)));
          const decoder = new FrameDecoder();
          const got: Uint8Array[] = [];
          for (const chunk of cut(stream, cuts)) {
            const { frames, error } = decoder.push(chunk);
            expect(error).toBeNull();
            got.push(...frames.map((f) => Uint8Array.from(f)));
          }
          expect(got).toEqual(payloads.map((p) => Uint8Array.from(p)));
          expect(decoder.pendingBytes).toBe(0);
        },
      ),
    );
  });

  it('handles a header split byte by byte and frames concatenated in one chunk', () => {
    const decoder = new FrameDecoder();
    const a = encodeFrame(new Uint8Array([1, 2, 3]));
    for (let i = 0; i < a.length - 1; i++) expect(decoder.push(a.subarray(i, i + 1)).frames).toEqual([]);
    expect(decoder.push(a.subarray(a.length - 1)).frames).toEqual([new Uint8Array([1, 2, 3])]);
    const both = decoder.push(concat([encodeFrame(new Uint8Array([4])), encodeFrame(new Uint8Array([])), encodeFrame(new Uint8Array([5, 6]))]));
    expect(both.frames).toEqual([new Uint8Array([4]), new Uint8Array([]), new Uint8Array([5, 6])]);
  });

  it('reports an oversized length instead of buffering it, and stays failed', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(1025, 0);
    const first = decoder.push(header);
    expect(first.error).toBeInstanceOf(FrameError);
    expect(first.error?.message).toMatch(/1025 exceeds the limit of 1024/);
    expect(decoder.push(encodeFrame(new Uint8Array([1]))).error).toBe(first.error);
    expect(decoder.pendingBytes).toBe(0);
    expect(() => encodeFrame(new Uint8Array(1025), 1024)).toThrow(FrameError);
  });

  it('bounds the first frame by its own limit, later frames by the frame limit', () => {
    const decoder = new FrameDecoder(1024, 16);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(17, 0);
    const refused = decoder.push(header);
    expect(refused.error?.message).toMatch(/17 exceeds the limit of 16 for a first frame/);
    expect(decoder.pendingBytes).toBe(0);

    const ok = new FrameDecoder(1024, 16);
    // The first frame and a larger second one in one chunk: the second meets the frame limit only.
    const both = ok.push(concat([encodeFrame(new Uint8Array(16)), encodeFrame(new Uint8Array(1000))]));
    expect(both.error).toBeNull();
    expect(both.frames.map((f) => f.length)).toEqual([16, 1000]);
  });

  it('never throws on random bytes, and wire decoding of any frame throws only WireError (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const decoder = new FrameDecoder(4096);
        for (const chunk of chunks) {
          const { frames } = decoder.push(chunk);
          for (const f of frames) {
            try {
              unpackWire(f);
            } catch (err) {
              expect(err).toBeInstanceOf(WireError);
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random payloads behind a valid header decode to a checked frame or a WireError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (payload) => {
        try {
          const frame = unpackWire(payload);
          expect(['hello', 'refuse', 'msg', 'snap', 'chunk']).toContain(frame.k);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('wire encoding', () => {
  it('round-trips an Append with every entry kind; bytes come back as Uint8Array, not Buffer', () => {
    const m: Message = {
      type: 'Append',
      from: nodeId('n1'),
      to: nodeId('n2'),
      term: term(3),
      prevLogIndex: logIndex(4),
      prevLogTerm: term(2),
      commit: logIndex(4),
      entries: [
        { index: logIndex(5), term: term(3), type: 'noop' },
        { index: logIndex(6), term: term(3), type: 'normal', data: new Uint8Array([0, 255, 7]) },
        { index: logIndex(7), term: term(3), type: 'config', change: { kind: 'addLearner', node: nodeId('n9'), context: new Uint8Array([1]) } },
      ],
    };
    const frame = unpackWire(new Uint8Array(packWire({ k: 'msg', m })));
    expect(frame).toStrictEqual({ k: 'msg', m });
    const entry = frame.k === 'msg' && frame.m.type === 'Append' ? frame.m.entries[1] : null;
    expect(entry?.type === 'normal' && entry.data.constructor).toBe(Uint8Array);
  });

  it('round-trips null fields and every message type', () => {
    const base = { from: nodeId('a'), to: nodeId('b'), term: term(1) };
    const messages: Message[] = [
      { ...base, type: 'PreVote', lastLogIndex: logIndex(1), lastLogTerm: term(1) },
      { ...base, type: 'VoteResp', reject: true },
      { ...base, type: 'Heartbeat', commit: logIndex(2), readContext: null },
      { ...base, type: 'HeartbeatResp', readContext: 'r-1' },
      { ...base, type: 'AppendResp', reject: false, index: logIndex(3), rejectHint: logIndex(0), rejectHintTerm: term(0) },
      { ...base, type: 'TimeoutNow' },
      { ...base, type: 'InstallSnapshot', snapshot: { meta: { index: logIndex(9), term: term(1), conf: { voters: [nodeId('a')], learners: [] } }, data: new Uint8Array([1, 2]) } },
    ];
    for (const m of messages) expect(unpackWire(new Uint8Array(packWire({ k: 'msg', m })))).toStrictEqual({ k: 'msg', m });
  });

  it('rejects messages with missing or wrong-typed fields', () => {
    const bad = [{ k: 'msg', m: { type: 'Vote', from: 'a', to: 'b' } }, { k: 'msg', m: { type: 'Nope', from: 'a', to: 'b', term: 1 } }, { k: 'msg', m: { type: 'Append', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'normal' }] } }, { k: 'what' }, [1, 2]];
    for (const v of bad) expect(() => unpackWire(new Uint8Array(packWire(v as never)))).toThrow(WireError);
  });

  it('a refusal keeps its reason and its removed flag, and nothing else; a flag that is not a boolean is refused', () => {
    const roundTrip = (v: unknown) => unpackWire(new Uint8Array(packWire(v as never)));
    expect(roundTrip({ k: 'refuse', reason: 'r' })).toStrictEqual({ k: 'refuse', reason: 'r' });
    expect(roundTrip({ k: 'refuse', reason: 'r', removed: true, extra: 'x'.repeat(10) })).toStrictEqual({ k: 'refuse', reason: 'r', removed: true });
    for (const removed of [1, 'yes', null]) expect(() => roundTrip({ k: 'refuse', reason: 'r', removed })).toThrow(WireError);
  });
});
