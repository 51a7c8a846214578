// Every limit of the lock state machine, named in one place.
// A command that would exceed one is refused with a 4xx outcome and changes
// nothing. Ranges mirror docs/http-api.md.

/** Lock and election names: 1–256 characters, starting with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;

export const SESSION_TTL_MS_MIN = 1_000;
export const SESSION_TTL_MS_MAX = 300_000;
export const SESSION_TTL_MS_DEFAULT = 10_000;
export const LOCK_DELAY_MS_MAX = 60_000;
// The client package owns it: the SDK cuts the session labels it makes to fit.
export { SESSION_NAME_CHARS_MAX } from 'lockstep-client';

export const HOLD_TTL_MS_MIN = 1_000;
export const HOLD_TTL_MS_MAX = 86_400_000;
export const WAIT_MS_MAX = 300_000;

/** Semaphore `limit` upper bound; also the bound on shared holders of one lock. */
export const HOLDERS_PER_LOCK_MAX = 10_000;
/**
 * Waiters (or election candidates) queued on one name. Deadlock detection
 * walks queues, so this bounds its cost too.
 */
export const WAITERS_PER_LOCK_MAX = 1_000;
export const SESSIONS_MAX = 100_000;
/**
 * Outstanding waits over all names (each one is a deadline the leader keeps).
 * A waiting lock set counts as many waits as it has queue places (one per
 * lock it waits for), so that this also bounds the queue entries of the
 * whole state (memory, snapshot size, deadlock walks); each place also counts
 * as one waiter of its lock against WAITERS_PER_LOCK_MAX.
 */
export const WAITS_MAX = 100_000;
/**
 * Lock holds and election leaderships over all names. A new hold granted at
 * once past it is refused (429 limit_exceeded): without it any writer could
 * grow every replica without end (a TTL hold on a new name, 4 KiB of value,
 * each). A waiter granted from a queue is not refused (it is already bounded
 * by WAITS_MAX), so the state holds at most HOLDS_MAX + WAITS_MAX holds.
 */
export const HOLDS_MAX = 100_000;
/** Distinct names in one lock set (http-api.md "Lock sets": 2..64); also the most holds one set release names. */
export const LOCK_SET_NAMES_MIN = 2;
export const LOCK_SET_NAMES_MAX = 64;

export const OWNER_CHARS_MAX = 256;
export const VALUE_CHARS_MAX = 4_096;
/** Session ids and wait ids are chosen by the proposer (random, unguessable). */
export const ID_CHARS_MAX = 128;

export const IDEMPOTENCY_KEY_CHARS_MAX = 128;
export const IDEMPOTENCY_METHOD_CHARS_MAX = 16;
export const IDEMPOTENCY_PATH_CHARS_MAX = 1_024;
/**
 * The contract promises a record for at least 10 minutes; one more minute
 * covers a leader whose wall clock runs up to a minute ahead (idempotency.ts).
 */
export const IDEMPOTENCY_RECORD_AGE_MS_MAX = 11 * 60_000;
/**
 * The keyed writes per second (averaged over IDEMPOTENCY_RECORD_AGE_MS_MAX)
 * the table is sized for. Every record is kept its full age: when the table is
 * full, a request with a new key is refused (429 limit_exceeded) rather than a
 * young record forgotten (issue 11: evicting the oldest lost keys after 90 s
 * at 1,100 keyed writes/s). README "Limits" states this rate.
 *
 * Why not more: the table is in every snapshot, which is encoded in one go.
 * Measured with scripts/bench-idempotency.ts: about 560 bytes of heap and
 * 190 bytes of snapshot per record, so a full table of 165,000 records is
 * ~95 MB of heap and ~31 MB in every snapshot.
 */
export const IDEMPOTENCY_KEYED_WRITES_PER_SECOND = 250;
export const IDEMPOTENCY_RECORDS_MAX = IDEMPOTENCY_KEYED_WRITES_PER_SECOND * (IDEMPOTENCY_RECORD_AGE_MS_MAX / 1_000);

/** Page size bounds for the list queries. */
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1_000;

/** Tokens in the replicated state (the root token is not one of them). */
export const TOKENS_MAX = 1_000;
export const TOKEN_NAME_CHARS_MAX = 128;
/** A token's name prefixes: 1..32 of them, each the start of a name. */
export const TOKEN_PREFIXES_MAX = 32;
/** A prefix is the start of a name: it obeys the name rule (1-256 characters, a letter or digit first). */
export const PREFIX_PATTERN = NAME_PATTERN;
/** Token ids are made by the proposer: 16 hex digits. */
export const TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;
/** The SHA-256 of a secret, lower-case hex. */
export const SECRET_HASH_PATTERN = /^[0-9a-f]{64}$/;
/**
 * How far above a backup's last fencing token (or election term) a cluster
 * restored from it starts granting. The old cluster may have granted tokens
 * after the backup was saved, and a downstream store that saw them would
 * refuse the restored cluster's holders, or worse, take a write from an old
 * holder over a new one whose token is lower. A billion covers eleven days of
 * grants at a thousand a second (etcd's restore bumps its revisions by the
 * same for the same reason, `etcdutl snapshot restore --bump-revision`). A
 * fixed number, so every node restored from one file starts identical.
 */
export const RESTORE_TOKEN_GAP = 1_000_000_000;
