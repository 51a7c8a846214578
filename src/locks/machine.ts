// The replicated lock state machine: a pure function of the committed
// commands. No clock, no randomness, no I/O: every replica
// that applies the same entries holds the same state, answers the same
// outcomes and yields the same events. Deadlines live in the leader's
// LeaseTable (leases.ts) and arrive here only as committed `expire` and
// `wait.cancel` commands (docs/safety.md #13, #14).
//
// This file is the envelope: decoding, validation, idempotency and the
// handler table. Each concept's commands are in a file of their own
// (sessions.ts, locks.ts, lock-sets.ts, elections.ts, expiry.ts), the read side in
// queries.ts, the snapshot in snapshot.ts. apply() RETURNS its events; it
// calls nobody: src/server/dispatcher.ts hands them on.
import type { Applied, AppliedCommand, StateMachine } from '../node/state-machine.js';
import type { LogIndex } from '../raft/types.js';
import { Applying, assert, type CommandHandlers, done } from './applying.js';
import type { ApplyResult, LockCommand, LockEvent, LockProposal } from './commands.js';
import { decodeProposal } from './codec.js';
import { electionCommands } from './elections.js';
import { expiryCommands } from './expiry.js';
import { lockSetCommands } from './lock-sets.js';
import { lockCommands } from './locks.js';
import { errorOutcome, invalidArgument } from './outcomes.js';
import { LockQueries } from './queries.js';
import { sessionCommands } from './sessions.js';
import { revokedOutcome, tokenCommands } from './tokens.js';
import { ROOT_PRINCIPAL, ROOT_TOKEN_ID, type Principal } from './permissions.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { emptyState } from './state.js';
import { IDEMPOTENCY_FULL_MESSAGE } from './idempotency.js';
import { validateCommand, validateEnvelope } from './validate.js';

/**
 * What one applied entry yields: the answer and the events, plus what the
 * dispatcher counts for operators (src/server/apply-metrics.ts) — the command
 * that ran, or that the entry was an Idempotency-Key repeat answered from its
 * record. Data only: the machine calls nobody.
 */
export interface ApplyOutput extends Applied<ApplyResult, LockEvent> {
  /** The command executed at this entry (absent when none ran: a repeat, a refusal before it, not a proposal). */
  command?: LockCommand;
  /** The entry repeated an Idempotency-Key: the first outcome was answered again, nothing executed. */
  replayed?: true;
}

/** Every command type has exactly one handler (the type says so); a new concept adds its table here. */
const HANDLERS: CommandHandlers<LockCommand['type']> = {
  ...sessionCommands,
  ...lockCommands,
  ...lockSetCommands,
  ...electionCommands,
  ...expiryCommands,
  ...tokenCommands,
};

function execute(cx: Applying, command: LockCommand): ApplyResult {
  // TypeScript cannot correlate HANDLERS[command.type] with command's own type; the table's type pins each pair.
  const handler = HANDLERS[command.type] as (cx: Applying, command: LockCommand) => ApplyResult;
  return handler(cx, command);
}

export interface LockMachineOptions {
  /** Capacity of the idempotency table (default IDEMPOTENCY_RECORDS_MAX); tests fill a small one. */
  idempotencyRecordsMax?: number;
}

export class LockMachine extends LockQueries implements StateMachine<ApplyResult, LockEvent> {
  constructor(private readonly options: LockMachineOptions = {}) {
    super();
    this.state = emptyState(options.idempotencyRecordsMax);
  }

  apply(command: AppliedCommand): ApplyOutput {
    let proposal: LockProposal | null = null;
    try {
      proposal = decodeProposal(command.data);
    } catch {
      proposal = null;
    }
    if (proposal === null) {
      // A log entry that is not msgpack: answered 400 on every replica alike, state untouched.
      this.advance(command.index);
      return { result: done(invalidArgument('entry is not a lock proposal')), events: [] };
    }
    return this.applyProposal(command.index, proposal);
  }

  private advance(index: number): void {
    assert(Number.isSafeInteger(index) && index > this.state.applied, `apply index ${index} after ${this.state.applied}`);
    this.state.applied = index;
  }

  /** Applies one decoded proposal at `index`: its result and the events it caused, in order. */
  applyProposal(index: number, proposal: LockProposal): ApplyOutput {
    this.advance(index);
    const badEnvelope = validateEnvelope(proposal);
    if (badEnvelope) return { result: done(invalidArgument(badEnvelope)), events: [] };
    const { state } = this;
    state.maxNowMs = Math.max(state.maxNowMs, proposal.nowMs);
    state.idempotency.prune(state.maxNowMs);
    // A revocation takes effect at its index: a command of that token applied
    // after it is refused (and recorded nowhere), whichever node let it in.
    const principal = this.principalOf(proposal.auth ?? null);
    if (principal === 'revoked') return { result: done(revokedOutcome()), events: [] };
    const idem = proposal.idempotency ?? null;
    if (idem !== null) {
      const found = state.idempotency.lookup(idem.key, idem.method, idem.path);
      switch (found.kind) {
        case 'conflict': {
          const message = `Idempotency-Key was first used for ${found.record.method} ${found.record.path}`;
          return { result: done(errorOutcome('idempotency_conflict', message)), events: [] };
        }
        case 'done':
          return { result: done(found.outcome), events: [], replayed: true };
        case 'pending':
          return { result: { kind: 'queued', waitId: found.waitId }, events: [], replayed: true };
        case 'miss':
          if (!state.idempotency.hasRoom()) {
            // Every record is kept its full age (issue 11): refuse the new key, record nothing, change nothing.
            return { result: done(errorOutcome('limit_exceeded', IDEMPOTENCY_FULL_MESSAGE)), events: [] };
          }
          break;
      }
    }
    const cx = new Applying(state, index, idem?.key ?? null, principal);
    const badCommand = validateCommand(proposal.command);
    let result: ApplyResult;
    try {
      result = badCommand ? done(invalidArgument(badCommand)) : execute(cx, proposal.command);
    } catch (err) {
      // A committed command its handler cannot use (one that slipped past validation, or an invariant
      // it breaks) must not stop every replica, at every restart: it is answered 500 and its events
      // dropped, identically on every replica (the machine is deterministic), and reported for the
      // node to log. What the handler changed before it threw stays: validation is what keeps that empty.
      const message = err instanceof Error ? err.message : String(err);
      return { result: done(errorOutcome('internal', 'the command could not be applied')), events: [], unusable: message };
    }
    if (idem !== null) {
      state.idempotency.record(
        idem.key,
        idem.method,
        idem.path,
        state.maxNowMs,
        result.kind === 'done' ? result.outcome : null,
        result.kind === 'queued' ? result.waitId : null,
      );
    }
    // Two literals rather than a conditional spread: spreading into a fresh object cost ~1 µs here (issue 12).
    return badCommand ? { result, events: cx.events } : { result, events: cx.events, command: proposal.command };
  }

  /** Whom a command acts for: null when auth is off (or the leader's own command), 'revoked' when its token is gone. */
  private principalOf(auth: { tokenId: string } | null): Principal | null | 'revoked' {
    if (auth === null) return null;
    if (auth.tokenId === ROOT_TOKEN_ID) return ROOT_PRINCIPAL;
    const token = this.state.tokens.get(auth.tokenId);
    return token === undefined ? 'revoked' : { id: token.id, name: token.name, role: token.role, prefixes: token.prefixes };
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  checkSnapshot(bytes: Uint8Array, index: LogIndex): string | null {
    try {
      decodeSnapshot(bytes, index, this.options.idempotencyRecordsMax);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  restore(bytes: Uint8Array, index: LogIndex): void {
    this.state = decodeSnapshot(bytes, index, this.options.idempotencyRecordsMax);
  }
}
