// A small, obviously right reference model of the lock service contract, for
// the property tests. Flat arrays in arrival order and linear scans instead
// of indexes; no limits beyond the contract's ranges the generator stays in;
// deadlock as plain reachability (the cycle the machine names is checked
// separately). Outcomes use the same HTTP shapes as the contract.
//
// Lock sets: a set's places are waiters (one per lock it does not carry)
// with the set's waitId. Handover is the contract's rule written plainly:
// settle the locks a step touched in the order touched; settling grants
// heads while they can be granted (a set only when it is first in line and
// fits on every lock it waits for, and then on all of them), and every lock
// a grant touches is settled again after. The order only fixes the order of
// fencing tokens; which waiters are granted does not depend on it.
import type { LockCommand, LockMode, Outcome } from '../../src/locks/commands.js';

interface MSession { id: string; ttlMs: number; lockDelayMs: number; name: string }
interface MHold { name: string; token: number; mode: LockMode; sessionId: string | null; ttlMs: number | null; owner: string | null; value: string | null }
interface MWaiter { waitId: string; name: string; sessionId: string | null; ttlMs: number | null; mode: LockMode; limit: number; owner: string | null; value: string | null; key: string | null }
interface MSetEntry { name: string; mode: LockMode; limit: number; carried: boolean }
interface MSet { waitId: string; sessionId: string | null; ttlMs: number | null; owner: string | null; value: string | null; key: string | null; entries: MSetEntry[] }
interface MCandidate { waitId: string; name: string; sessionId: string; value: string; key: string | null }
interface MLeader { sessionId: string; value: string; term: number }

export type ModelResult = { kind: 'done'; outcome: Outcome } | { kind: 'queued'; waitId: string };

const err = (status: number, code: string): Outcome => ({ status, body: { error: { code } } });
const NOT_FOUND = err(404, 'session_not_found');

export class Model {
  sessions: MSession[] = [];
  holds: MHold[] = [];
  waiters: MWaiter[] = [];
  sets: MSet[] = [];
  candidates: MCandidate[] = [];
  leaders = new Map<string, MLeader>();
  limits = new Map<string, number>();
  delays = new Map<string, number>();
  idem = new Map<string, { method: string; path: string; outcome: Outcome | null; waitId: string | null }>();
  lastToken = 0;
  index = 0;
  /** Waits resolved by the current command, in order. */
  resolvedNow: Array<{ waitId: string; outcome: Outcome }> = [];
  private key: string | null = null;

  live = (id: string | null): boolean => id !== null && this.sessions.some((s) => s.id === id);
  holdsOf = (name: string): MHold[] => this.holds.filter((h) => h.name === name);
  queueOf = (name: string): MWaiter[] => this.waiters.filter((w) => w.name === name);
  hasRecord = (name: string): boolean => this.holdsOf(name).length > 0 || this.queueOf(name).length > 0 || this.delays.has(name);
  limitOf = (name: string): number => (this.hasRecord(name) ? (this.limits.get(name) ?? 1) : 1);
  /** Only exclusive holders or waiters put a limit in force (http-api.md: `limit` is exclusive only). */
  limitInForce = (name: string): number | null =>
    this.holdsOf(name).some((h) => h.mode === 'exclusive') || this.queueOf(name).some((w) => w.mode === 'exclusive') ? this.limitOf(name) : null;
  modeOf = (name: string): LockMode | null => this.holdsOf(name)[0]?.mode ?? null;

  holderView(h: MHold): Record<string, unknown> {
    const v: Record<string, unknown> = { fencingToken: h.token, mode: h.mode };
    if (h.sessionId !== null) v.sessionId = h.sessionId;
    if (h.owner !== null) v.owner = h.owner;
    if (h.value !== null) v.value = h.value;
    if (h.ttlMs !== null) v.expiresInMs = h.ttlMs;
    return v;
  }

  acquiredBody(h: MHold): Record<string, unknown> {
    const b: Record<string, unknown> = { acquired: true, name: h.name, fencingToken: h.token, mode: h.mode };
    if (h.sessionId !== null) b.sessionId = h.sessionId;
    if (h.ttlMs !== null) b.expiresInMs = h.ttlMs;
    return b;
  }

  notAcquired(name: string): Outcome {
    const body: Record<string, unknown> = { acquired: false, name, holders: this.holdsOf(name).map((h) => this.holderView(h)), queueLength: this.queueOf(name).length };
    if (this.delays.has(name)) body.lockDelayRemainingMs = this.delays.get(name);
    return { status: 200, body };
  }

  fits(name: string, mode: LockMode): boolean {
    const holders = this.holdsOf(name);
    if (holders.length === 0) return true;
    if (mode === 'shared') return holders[0].mode === 'shared';
    return holders[0].mode === 'exclusive' && holders.length < this.limitOf(name);
  }

  setOf = (waitId: string): MSet | undefined => this.sets.find((x) => x.waitId === waitId);
  /** Graph nodes: sessions 's:<id>', sets waiting without a session 'w:<waitId>' (a single TTL waiter is no node). */
  nodeOf = (w: MWaiter): string | null => (w.sessionId !== null ? `s:${w.sessionId}` : this.setOf(w.waitId) ? `w:${w.waitId}` : null);

  /** Does node `from` reach `to` in the wait-for graph? */
  reaches(from: string, to: string): boolean {
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (s === to) return true;
      for (const t of this.waitsFor(s)) if (!seen.has(t)) { seen.add(t); stack.push(t); }
    }
    return false;
  }

  /** Nodes that node `n` waits for (through any of its queue places, or only those on `onlyLock`). */
  waitsFor(n: string, onlyLock?: string): string[] {
    const out: string[] = [];
    for (const w of this.waiters) {
      if (this.nodeOf(w) !== n || (onlyLock !== undefined && w.name !== onlyLock)) continue;
      out.push(...this.blockersAt(w.name, this.queueOf(w.name).indexOf(w), w.mode, n));
    }
    return out;
  }

  /** Holders (unless first in line and fitting beside them) and the waiters ahead, as nodes, without `self`. */
  blockersAt(name: string, position: number, mode: LockMode, self: string): string[] {
    const holders = position === 0 && this.fits(name, mode) ? [] : this.holdsOf(name).map((h) => (h.sessionId === null ? null : `s:${h.sessionId}`));
    const ahead = this.queueOf(name).slice(0, position).map((w) => this.nodeOf(w));
    return [...holders, ...ahead].filter((id): id is string => id !== null && id !== self);
  }

  /** Would `sessionId` waiting at the end of these lines close a cycle? */
  closesCycle(sessionId: string, wants: Array<{ name: string; mode: LockMode }>): boolean {
    const self = `s:${sessionId}`;
    return wants.some((w) => this.blockersAt(w.name, this.queueOf(w.name).length, w.mode, self).some((t) => this.reaches(t, self)));
  }

  private token(): number {
    this.lastToken = Math.max(this.index, this.lastToken + 1);
    return this.lastToken;
  }

  private resolve(waitId: string, key: string | null, outcome: Outcome): void {
    this.resolvedNow.push({ waitId, outcome });
    const rec = key === null ? undefined : this.idem.get(key);
    if (rec && rec.waitId === waitId && rec.outcome === null) rec.outcome = outcome;
  }

  private removeWaiter(w: MWaiter): void {
    this.waiters.splice(this.waiters.indexOf(w), 1);
  }

  private newHold(name: string, mode: LockMode, w: { sessionId: string | null; ttlMs: number | null; owner: string | null; value: string | null }): MHold {
    const hold: MHold = { name, token: this.token(), mode, sessionId: w.sessionId, ttlMs: w.ttlMs, owner: w.owner, value: w.value };
    this.holds.push(hold);
    return hold;
  }

  private sessionHoldOf(name: string, sessionId: string | null): MHold | undefined {
    return sessionId === null ? undefined : this.holdsOf(name).find((h) => h.sessionId === sessionId);
  }

  /** First in line, not delayed, fits: on every lock the set does not carry. */
  setReady(set: MSet): boolean {
    return set.entries.every((e) => e.carried || (!this.delays.has(e.name) && this.queueOf(e.name)[0]?.waitId === set.waitId && this.fits(e.name, e.mode)));
  }

  setBody(holds: MHold[], sessionId: string | null, ttlMs: number | null): Record<string, unknown> {
    const b: Record<string, unknown> = { acquired: true, holds: holds.map((h) => ({ name: h.name, fencingToken: h.token, mode: h.mode })) };
    if (sessionId !== null) b.sessionId = sessionId;
    if (ttlMs !== null) b.expiresInMs = ttlMs;
    return b;
  }

  blockedView(name: string): Record<string, unknown> {
    const v: Record<string, unknown> = { name, holders: this.holdsOf(name).map((h) => this.holderView(h)), queueLength: this.queueOf(name).length };
    if (this.delays.has(name)) v.lockDelayRemainingMs = this.delays.get(name);
    return v;
  }

  private placesOf(set: MSet): MWaiter[] {
    return this.waiters.filter((w) => w.waitId === set.waitId);
  }

  /** The set leaves every line and the model; returns the locks it had places on. */
  private withdraw(set: MSet): string[] {
    const names = this.placesOf(set).map((w) => w.name);
    this.waiters = this.waiters.filter((w) => w.waitId !== set.waitId);
    this.sets.splice(this.sets.indexOf(set), 1);
    return names;
  }

  /** Returns the names of the new holds. */
  private grantSet(set: MSet): string[] {
    const holds: MHold[] = [];
    const granted: string[] = [];
    for (const e of set.entries) {
      if (e.carried) { holds.push(this.sessionHoldOf(e.name, set.sessionId)!); continue; }
      this.removeWaiter(this.queueOf(e.name)[0]);
      holds.push(this.newHold(e.name, e.mode, set));
      granted.push(e.name);
    }
    this.sets.splice(this.sets.indexOf(set), 1);
    this.resolve(set.waitId, set.key, { status: 200, body: this.setBody(holds, set.sessionId, set.ttlMs) });
    return granted;
  }

  /** New holds of `sessionId` on `names`: its waiting sets carry them from now on. */
  private granted(sessionId: string | null, names: string[], pending: Set<string>): void {
    for (const n of names) pending.add(n);
    if (sessionId === null) return;
    for (const set of this.sets.filter((x) => x.sessionId === sessionId)) {
      const entries = set.entries.filter((e) => !e.carried && names.includes(e.name));
      if (entries.length === 0) continue;
      for (const e of entries) {
        this.removeWaiter(this.placesOf(set).find((w) => w.name === e.name)!);
        e.carried = true;
      }
      const rest = set.entries.filter((e) => !e.carried);
      if (rest.length === 0) this.granted(sessionId, this.grantSet(set), pending);
      else for (const e of rest) pending.add(e.name);
    }
  }

  /** The session let go of `names`: its sets that carried them end 409 not_holder. Returns the locks they left. */
  private endCarriers(sessionId: string | null, names: string[]): string[] {
    const left: string[] = [];
    for (const set of this.sets.filter((x) => x.sessionId !== null && x.sessionId === sessionId)) {
      const released = set.entries.filter((e) => e.carried && names.includes(e.name)).map((e) => e.name);
      if (released.length === 0) continue;
      left.push(...this.withdraw(set));
      this.resolve(set.waitId, set.key, { status: 409, body: { error: { code: 'not_holder', names: released } } });
    }
    return left;
  }

  handOver(names: Iterable<string>): void {
    const pending = new Set(names);
    for (const name of pending) {
      pending.delete(name);
      this.settle(name, pending);
    }
  }

  private settle(name: string, pending: Set<string>): void {
    while (!this.delays.has(name)) {
      const head = this.queueOf(name)[0];
      if (!head) break;
      const set = this.setOf(head.waitId);
      if (set) {
        if (!this.setReady(set)) break;
        this.granted(set.sessionId, this.grantSet(set), pending);
        continue;
      }
      const existing = this.holdsOf(name).find((h) => h.sessionId !== null && h.sessionId === head.sessionId);
      if (head.sessionId !== null && !this.live(head.sessionId)) {
        this.removeWaiter(head);
        this.resolve(head.waitId, head.key, NOT_FOUND);
      } else if (existing) {
        this.removeWaiter(head);
        this.resolve(head.waitId, head.key, { status: 200, body: this.acquiredBody(existing) });
      } else if (this.fits(name, head.mode)) {
        this.removeWaiter(head);
        const hold = this.newHold(name, head.mode, head);
        this.resolve(head.waitId, head.key, { status: 200, body: this.acquiredBody(hold) });
        this.granted(head.sessionId, [name], pending);
      } else break;
    }
  }

  private elect(name: string, sessionId: string, value: string): MLeader {
    const leader = { sessionId, value, term: this.token() };
    this.leaders.set(name, leader);
    return leader;
  }

  private promote(name: string): void {
    this.leaders.delete(name);
    for (;;) {
      const head = this.candidates.find((c) => c.name === name);
      if (!head) return;
      this.candidates.splice(this.candidates.indexOf(head), 1);
      if (!this.live(head.sessionId)) { this.resolve(head.waitId, head.key, NOT_FOUND); continue; }
      const leader = this.elect(name, head.sessionId, head.value);
      this.resolve(head.waitId, head.key, { status: 200, body: { elected: true, name, term: leader.term, value: leader.value } });
      return;
    }
  }

  private endSession(id: string, expired: boolean): Array<{ name: string; fencingToken: number }> {
    const session = this.sessions.find((s) => s.id === id)!;
    this.sessions = this.sessions.filter((s) => s.id !== id);
    const waits = [...this.waiters.filter((w) => w.sessionId === id), ...this.candidates.filter((c) => c.sessionId === id)];
    // In arrival order across locks and elections: wait ids are issued in increasing order by the generator
    // (a set's places share its id and stay in the order asked).
    waits.sort((a, b) => Number(a.waitId.slice(1)) - Number(b.waitId.slice(1)));
    this.waiters = this.waiters.filter((w) => w.sessionId !== id);
    this.candidates = this.candidates.filter((c) => c.sessionId !== id);
    this.sets = this.sets.filter((x) => x.sessionId !== id);
    for (const waitId of new Set(waits.map((w) => w.waitId))) this.resolve(waitId, waits.find((w) => w.waitId === waitId)!.key, NOT_FOUND);
    // Then hand over the locks it waited on, in the order it first queued there, to one fixpoint.
    this.handOver(waits.filter((w) => 'mode' in w).map((w) => w.name));
    const released: Array<{ name: string; fencingToken: number }> = [];
    for (const h of this.holds.filter((x) => x.sessionId === id)) {
      this.holds.splice(this.holds.indexOf(h), 1);
      released.push({ name: h.name, fencingToken: h.token });
      if (expired && session.lockDelayMs > 0) this.delays.set(h.name, Math.max(this.delays.get(h.name) ?? 0, session.lockDelayMs));
      this.handOver([h.name]);
    }
    for (const [name, leader] of [...this.leaders]) if (leader.sessionId === id) this.promote(name);
    return released;
  }

  apply(index: number, command: LockCommand, idem: { key: string; method: string; path: string } | null): ModelResult {
    this.index = index;
    this.resolvedNow = [];
    this.key = idem?.key ?? null;
    if (idem) {
      const rec = this.idem.get(idem.key);
      if (rec && (rec.method !== idem.method || rec.path !== idem.path)) return { kind: 'done', outcome: err(409, 'idempotency_conflict') };
      if (rec) return rec.outcome ? { kind: 'done', outcome: rec.outcome } : { kind: 'queued', waitId: rec.waitId! };
    }
    const result = validContract(command) ? this.execute(command) : { kind: 'done' as const, outcome: err(400, 'invalid_argument') };
    if (idem) {
      this.idem.set(idem.key, {
        method: idem.method,
        path: idem.path,
        outcome: result.kind === 'done' ? result.outcome : null,
        waitId: result.kind === 'queued' ? result.waitId : null,
      });
    }
    // Locks that are wholly free forget their limit.
    for (const name of [...this.limits.keys()]) if (!this.hasRecord(name)) this.limits.delete(name);
    return result;
  }

  private execute(c: LockCommand): ModelResult {
    const done = (outcome: Outcome): ModelResult => ({ kind: 'done', outcome });
    const ok = (body: unknown): ModelResult => done({ status: 200, body });
    switch (c.type) {
      case 'session.create':
        if (this.live(c.sessionId)) return done(err(400, 'invalid_argument'));
        this.sessions.push({ id: c.sessionId, ttlMs: c.ttlMs, lockDelayMs: c.lockDelayMs, name: c.name });
        return done({ status: 201, body: { sessionId: c.sessionId, ttlMs: c.ttlMs, lockDelayMs: c.lockDelayMs, name: c.name } });
      case 'session.delete':
        if (!this.live(c.sessionId)) return done(NOT_FOUND);
        return ok({ sessionId: c.sessionId, released: this.endSession(c.sessionId, false) });
      case 'lock.acquire': {
        if (c.sessionId !== null && !this.live(c.sessionId)) return done(NOT_FOUND);
        const mine = this.holdsOf(c.name).find((h) => c.sessionId !== null && h.sessionId === c.sessionId);
        if (mine) return ok(this.acquiredBody(mine));
        const free = this.holdsOf(c.name).length === 0 && this.queueOf(c.name).length === 0;
        const inForce = this.limitInForce(c.name);
        if (c.mode === 'exclusive' && inForce !== null && c.limit !== inForce) return done(err(409, 'limit_mismatch'));
        const setsLimit = free || (c.mode === 'exclusive' && inForce === null);
        const limitBefore = this.limitOf(c.name);
        if (setsLimit) this.limits.set(c.name, c.limit);
        if (!this.delays.has(c.name) && this.queueOf(c.name).length === 0 && this.fits(c.name, c.mode)) {
          const hold: MHold = { name: c.name, token: this.token(), mode: c.mode, sessionId: c.sessionId, ttlMs: c.ttlMs, owner: c.owner, value: c.value };
          this.holds.push(hold);
          return ok(this.acquiredBody(hold));
        }
        const undo = (): void => { if (setsLimit) this.limits.set(c.name, limitBefore); };
        if (c.waitMs === 0) { undo(); return done(this.notAcquired(c.name)); }
        if (c.sessionId !== null && this.closesCycle(c.sessionId, [c])) {
          undo();
          return done(err(409, 'deadlock'));
        }
        this.waiters.push({ waitId: c.waitId!, name: c.name, sessionId: c.sessionId, ttlMs: c.ttlMs, mode: c.mode, limit: c.limit, owner: c.owner, value: c.value, key: this.key });
        return { kind: 'queued', waitId: c.waitId! };
      }
      case 'lock.release': {
        const h = this.holdsOf(c.name).find((x) => x.token === c.fencingToken);
        if (!h) return done(err(409, 'not_holder'));
        this.holds.splice(this.holds.indexOf(h), 1);
        this.handOver([c.name, ...this.endCarriers(h.sessionId, [c.name])]);
        return ok({ released: true });
      }
      case 'lockSet.acquire': {
        if (c.sessionId !== null && !this.live(c.sessionId)) return done(NOT_FOUND);
        const entries: MSetEntry[] = c.locks.map((l) => ({ ...l, carried: this.sessionHoldOf(l.name, c.sessionId) !== undefined }));
        const needed = entries.filter((e) => !e.carried);
        for (const e of needed) {
          const inForce = this.limitInForce(e.name);
          if (e.mode === 'exclusive' && inForce !== null && e.limit !== inForce) return done(err(409, 'limit_mismatch'));
        }
        const blocked = needed.filter((e) => !(!this.delays.has(e.name) && this.queueOf(e.name).length === 0 && this.fits(e.name, e.mode))).map((e) => e.name);
        if (blocked.length === 0) {
          const holds = entries.map((e) => {
            if (e.carried) return this.sessionHoldOf(e.name, c.sessionId)!;
            this.claim(e.name, e.mode, e.limit);
            return this.newHold(e.name, e.mode, c);
          });
          return ok(this.setBody(holds, c.sessionId, c.ttlMs));
        }
        if (c.waitMs === 0) return ok({ acquired: false, blocked: blocked.map((n) => this.blockedView(n)) });
        if (c.sessionId !== null && this.closesCycle(c.sessionId, needed)) return done(err(409, 'deadlock'));
        for (const e of needed) {
          this.claim(e.name, e.mode, e.limit);
          this.waiters.push({ waitId: c.waitId!, name: e.name, sessionId: c.sessionId, ttlMs: c.ttlMs, mode: e.mode, limit: e.limit, owner: c.owner, value: c.value, key: this.key });
        }
        this.sets.push({ waitId: c.waitId!, sessionId: c.sessionId, ttlMs: c.ttlMs, owner: c.owner, value: c.value, key: this.key, entries });
        return { kind: 'queued', waitId: c.waitId! };
      }
      case 'lockSet.release': {
        const missing = c.holds.filter((r) => !this.holdsOf(r.name).some((x) => x.token === r.fencingToken));
        if (missing.length > 0) return done({ status: 409, body: { error: { code: 'not_holder', names: missing.map((r) => r.name) } } });
        const bySession = new Map<string | null, string[]>();
        for (const r of c.holds) {
          const h = this.holdsOf(r.name).find((x) => x.token === r.fencingToken)!;
          this.holds.splice(this.holds.indexOf(h), 1);
          bySession.set(h.sessionId, [...(bySession.get(h.sessionId) ?? []), r.name]);
        }
        const left = [...bySession].flatMap(([sessionId, names]) => this.endCarriers(sessionId, names));
        this.handOver([...c.holds.map((r) => r.name), ...left]);
        return ok({ released: c.holds.map((r) => r.name) });
      }
      case 'lock.extend': {
        const h = this.holdsOf(c.name).find((x) => x.token === c.fencingToken);
        if (!h) return done(err(409, 'not_holder'));
        if (h.ttlMs === null) return done(err(400, 'invalid_argument'));
        h.ttlMs = c.ttlMs ?? h.ttlMs;
        return ok({ expiresInMs: h.ttlMs });
      }
      case 'election.campaign': {
        if (!this.live(c.sessionId)) return done(NOT_FOUND);
        const leader = this.leaders.get(c.name);
        if (leader?.sessionId === c.sessionId) return ok({ elected: true, name: c.name, term: leader.term, value: leader.value });
        if (!leader) { const l = this.elect(c.name, c.sessionId, c.value); return ok({ elected: true, name: c.name, term: l.term, value: l.value }); }
        if (c.waitMs === 0) return ok({ elected: false, name: c.name, leader: { ...leader } });
        this.candidates.push({ waitId: c.waitId!, name: c.name, sessionId: c.sessionId, value: c.value, key: this.key });
        return { kind: 'queued', waitId: c.waitId! };
      }
      case 'election.proclaim': {
        const leader = this.leaders.get(c.name);
        if (!leader || leader.term !== c.term) return done(err(409, 'not_holder'));
        leader.value = c.value;
        return ok({ name: c.name, term: c.term, value: c.value });
      }
      case 'election.resign': {
        const leader = this.leaders.get(c.name);
        if (!leader || leader.term !== c.term) return done(err(409, 'not_holder'));
        this.promote(c.name);
        return ok({ resigned: true });
      }
      case 'token.create':
      case 'token.revoke':
        // Tokens have their own model (test/locks/tokens.test.ts); this one is about locks.
        throw new Error(`${c.type} is not modelled here`);
      case 'wait.cancel': {
        let cancelled = 0;
        for (const id of c.waitIds) {
          const set = this.setOf(id);
          const w = this.waiters.find((x) => x.waitId === id);
          const cand = this.candidates.find((x) => x.waitId === id);
          if (set) {
            cancelled++;
            // What blocked is judged with the set still in line; the views show the lines it leaves.
            const blocked = set.entries
              .filter((e) => !e.carried && !(!this.delays.has(e.name) && this.queueOf(e.name)[0]?.waitId === id && this.fits(e.name, e.mode)))
              .map((e) => e.name);
            const left = this.withdraw(set);
            this.resolve(id, set.key, { status: 200, body: { acquired: false, blocked: blocked.map((n) => this.blockedView(n)) } });
            this.handOver(left);
          } else if (w) {
            cancelled++;
            this.removeWaiter(w);
            this.resolve(id, w.key, this.notAcquired(w.name));
            this.handOver([w.name]);
          } else if (cand) {
            cancelled++;
            this.candidates.splice(this.candidates.indexOf(cand), 1);
            this.resolve(id, cand.key, { status: 200, body: { elected: false, name: cand.name, leader: { ...this.leaders.get(cand.name)! } } });
          }
        }
        return ok({ cancelled });
      }
      case 'expire': {
        let sessions = 0, holds = 0, lockDelays = 0;
        for (const id of c.sessionIds) if (this.live(id)) { this.endSession(id, true); sessions++; }
        for (const ref of c.holds) {
          const h = this.holdsOf(ref.name).find((x) => x.token === ref.fencingToken && x.ttlMs !== null);
          if (!h) continue;
          this.holds.splice(this.holds.indexOf(h), 1);
          this.handOver([ref.name]);
          holds++;
        }
        for (const name of c.lockDelays) if (this.delays.delete(name)) { this.handOver([name]); lockDelays++; }
        return ok({ expired: { sessions, holds, lockDelays } });
      }
    }
  }

  /** A free lock, or one with no exclusive limit in force, takes this request's limit. */
  private claim(name: string, mode: LockMode, limit: number): void {
    const free = this.holdsOf(name).length === 0 && this.queueOf(name).length === 0;
    if (free || (mode === 'exclusive' && this.limitInForce(name) === null)) this.limits.set(name, limit);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;
const inRange = (v: number | null, min: number, max: number): boolean => v !== null && Number.isInteger(v) && v >= min && v <= max;

/** The contract's field rules, for the fields the generator varies. */
function validContract(c: LockCommand): boolean {
  switch (c.type) {
    case 'session.create':
      return inRange(c.ttlMs, 1_000, 300_000) && inRange(c.lockDelayMs, 0, 60_000);
    case 'lock.acquire':
      return NAME.test(c.name) && (c.sessionId === null) !== (c.ttlMs === null) && (c.ttlMs === null || inRange(c.ttlMs, 1_000, 86_400_000)) &&
        inRange(c.limit, 1, 10_000) && !(c.mode === 'shared' && c.limit !== 1) && (c.waitMs > 0) === (c.waitId !== null);
    case 'lock.release':
    case 'lock.extend':
      return NAME.test(c.name) && c.fencingToken >= 1;
    case 'lockSet.acquire':
      return c.locks.length >= 2 && c.locks.length <= 64 && new Set(c.locks.map((l) => l.name)).size === c.locks.length &&
        c.locks.every((l) => NAME.test(l.name) && inRange(l.limit, 1, 10_000) && !(l.mode === 'shared' && l.limit !== 1)) &&
        (c.sessionId === null) !== (c.ttlMs === null) && (c.ttlMs === null || inRange(c.ttlMs, 1_000, 86_400_000)) && (c.waitMs > 0) === (c.waitId !== null);
    case 'lockSet.release':
      return c.holds.length >= 1 && c.holds.length <= 64 && new Set(c.holds.map((h) => `${h.name}/${h.fencingToken}`)).size === c.holds.length &&
        c.holds.every((h) => NAME.test(h.name) && h.fencingToken >= 1);
    default:
      return true;
  }
}
