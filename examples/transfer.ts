// transfer: move money between accounts, many workers in both directions at
// once — the textbook deadlock (two processes taking locks A and B in
// opposite orders) and the textbook lost update (two read-modify-writes of
// one balance interleaving), both gone with a lock set.
//
//   npx lockstep cluster up        # in another terminal
//   npx tsx examples/transfer.ts [--workers 8] [--transfers 25] [--accounts 4] [--seed 1]
//
// The story it prints:
//   1. the old way, one lock at a time: x holds A and waits for B, y holds B
//      and asks for A — lockstep refuses y's wait with 409 deadlock and the
//      cycle (elsewhere both would wait until a timeout);
//   2. the lock set way: every transfer takes both accounts' locks as one set
//      (client.withLocks: all or nothing, waiting in line, never holding
//      one of them while waiting for the other), so workers moving money both
//      ways at once never deadlock; afterwards the total is unchanged and
//      every balance is its opening plus what the transfers say it got —
//      no lost update. Every write carries the lock's fencing token;
//   3. a paused transfer: it holds both accounts with a short TTL and stalls
//      past it, another transfer moves money meanwhile, and its late writes
//      are refused by the store (stale tokens).

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, isLockstepError } from 'lockstep-client';
import { clientOptionsFromEnv } from './client-env.js';
import { LedgerStore, StaleTokenError } from './ledger-store.js';

export interface TransferOptions {
  workers: number;
  transfersPerWorker: number;
  accounts: number;
  seed: number;
  /** Prefix of the lock and account names, so that runs do not meet. */
  prefix: string;
}

export const DEFAULT_OPTIONS: TransferOptions = { workers: 8, transfersPerWorker: 25, accounts: 4, seed: 1, prefix: 'acct' };
const OPENING_BALANCE = 1_000;
const TRANSFER_TTL_MS = 30_000;
const TRANSFER_WAIT_MS = 60_000;
/** The paused transfer's TTL (the API's shortest) and how long it stalls: past it. */
const SHORT_TTL_MS = 1_000;
const STALL_MS = 2_500;

/** A small seeded generator (mulberry32), so a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1. One lock at a time, in opposite orders: the wait that would close the cycle is refused. */
async function oneByOne(client: Client, a: string, b: string, log: (line: string) => void): Promise<void> {
  const x = await client.session({ ttlMs: 10_000, name: 'x' });
  const y = await client.session({ ttlMs: 10_000, name: 'y' });
  try {
    await client.acquire(a, { sessionId: x.id });
    await client.acquire(b, { sessionId: y.id });
    log(`one lock at a time: x holds ${a}, y holds ${b}; x waits for ${b}`);
    const xWaits = client.acquire(b, { sessionId: x.id, waitMs: 10_000 });
    // Let x's wait reach the queue before y asks.
    for (let i = 0; i < 200 && (await client.getLock(b)).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    try {
      await client.acquire(a, { sessionId: y.id, waitMs: 10_000 });
      throw new Error(`y got ${a} while x holds it`);
    } catch (err) {
      if (!isLockstepError(err, 'deadlock')) throw err;
      log(`y asks for ${a}: 409 deadlock, cycle ${(err.details.cycle as string[]).join(' -> ')} (refused at once, not after a timeout)`);
    }
    await y.close(); // y gives up and lets go of b: x gets it
    const got = await xWaits;
    log(`y gives up; x gets ${b}: ${got.acquired ? 'acquired' : 'not acquired'}`);
  } finally {
    await x.close().catch(() => undefined);
    await y.close().catch(() => undefined);
  }
}

/** 2. Many workers, both directions at once, every transfer under one lock set. */
async function concurrentTransfers(client: Client, store: LedgerStore, accounts: string[], o: TransferOptions, log: (line: string) => void): Promise<void> {
  const net = new Map(accounts.map((acct) => [acct, 0]));
  let done = 0;
  let skipped = 0;
  const forward = { ab: 0, ba: 0 };
  const next = random(o.seed);
  const work = Array.from({ length: o.workers }, async (_, w) => {
    for (let i = 0; i < o.transfersPerWorker; i++) {
      const from = accounts[Math.floor(next() * accounts.length)];
      let to = accounts[Math.floor(next() * (accounts.length - 1))];
      if (to === from) to = accounts[accounts.length - 1];
      const amount = 1 + Math.floor(next() * 50);
      const moved = await client.withLocks([from, to], { ttlMs: TRANSFER_TTL_MS, waitMs: TRANSFER_WAIT_MS, owner: `worker-${w}` }, async (set) => {
        const fromBalance = await store.read(from);
        const toBalance = await store.read(to);
        if (fromBalance < amount) return false;
        if (set.signal.aborted) throw new Error(`worker-${w}: the hold on ${from}, ${to} may have ended; start over`);
        await store.write(from, fromBalance - amount, set.fencingToken(from));
        await store.write(to, toBalance + amount, set.fencingToken(to));
        return true;
      });
      if (!moved) {
        skipped += 1;
        continue;
      }
      net.set(from, net.get(from)! - amount);
      net.set(to, net.get(to)! + amount);
      done += 1;
      if (from < to) forward.ab += 1;
      else forward.ba += 1;
    }
  });
  await Promise.all(work);
  log(`lock sets: ${o.workers} workers made ${done} transfers between ${accounts.length} accounts (${forward.ab} one way, ${forward.ba} the other; ${skipped} skipped for want of funds), no deadlock`);
  const balances = store.snapshot();
  const wrong = accounts.filter((acct) => balances[acct] !== OPENING_BALANCE + net.get(acct)!);
  if (wrong.length > 0) throw new Error(`lost update on ${wrong.join(', ')}: ${JSON.stringify(balances)} vs net ${JSON.stringify(Object.fromEntries(net))}`);
  const total = store.total();
  if (total !== OPENING_BALANCE * accounts.length) throw new Error(`money appeared or vanished: total ${total}`);
  log(`total ${total} before and after; every balance equals its opening plus its transfers: no lost update`);
}

/** 3. A paused transfer's late writes are refused by the store. */
async function pausedTransfer(client: Client, store: LedgerStore, a: string, b: string, log: (line: string) => void): Promise<void> {
  const paused = await client.acquireSet({ locks: [{ name: a }, { name: b }], ttlMs: SHORT_TTL_MS, owner: 'paused' });
  if (!paused.acquired) throw new Error('the paused transfer should have got both accounts');
  const tokens = new Map(paused.holds.map((h) => [h.name, h.fencingToken]));
  const before = { [a]: await store.read(a), [b]: await store.read(b) };
  log(`a transfer holds ${a}, ${b} (tokens ${tokens.get(a)}, ${tokens.get(b)}; TTL ${SHORT_TTL_MS} ms), reads them ... and stalls for ${STALL_MS} ms`);
  await new Promise((r) => setTimeout(r, STALL_MS));
  await client.withLocks([b, a], { ttlMs: TRANSFER_TTL_MS, waitMs: TRANSFER_WAIT_MS, owner: 'prompt' }, async (set) => {
    const [fromBalance, toBalance] = [await store.read(b), await store.read(a)];
    await store.write(b, fromBalance - 10, set.fencingToken(b));
    await store.write(a, toBalance + 10, set.fencingToken(a));
    log(`meanwhile another transfer moves 10 from ${b} to ${a} with tokens ${set.fencingToken(b)}, ${set.fencingToken(a)}`);
  });
  try {
    await store.write(a, before[a] - 100, tokens.get(a)!);
    throw new Error('the store accepted a stale token');
  } catch (err) {
    if (!(err instanceof StaleTokenError)) throw err;
    log(`the paused transfer wakes and writes with token ${tokens.get(a)}: REFUSED (${err.message})`);
  }
}

export async function runTransferDemo(client: Client, o: TransferOptions, log: (line: string) => void): Promise<LedgerStore> {
  const accounts = Array.from({ length: o.accounts }, (_, i) => `${o.prefix}:${i + 1}`);
  const store = new LedgerStore(Object.fromEntries(accounts.map((acct) => [acct, OPENING_BALANCE])));
  await oneByOne(client, `${o.prefix}:lock-a`, `${o.prefix}:lock-b`, log);
  await concurrentTransfers(client, store, accounts, o, log);
  await pausedTransfer(client, store, accounts[0], accounts[1], log);
  log(`store: ${JSON.stringify(store.snapshot())}, ${store.refused} stale write(s) refused`);
  return store;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: String(DEFAULT_OPTIONS.workers) },
      transfers: { type: 'string', default: String(DEFAULT_OPTIONS.transfersPerWorker) },
      accounts: { type: 'string', default: String(DEFAULT_OPTIONS.accounts) },
      seed: { type: 'string', default: String(DEFAULT_OPTIONS.seed) },
      prefix: { type: 'string', default: DEFAULT_OPTIONS.prefix },
    },
  });
  const options: TransferOptions = {
    workers: Number(values.workers),
    transfersPerWorker: Number(values.transfers),
    accounts: Number(values.accounts),
    seed: Number(values.seed),
    prefix: values.prefix!,
  };
  if (!(options.accounts >= 2 && options.workers >= 1 && options.transfersPerWorker >= 0)) throw new Error('need --accounts >= 2, --workers >= 1');
  // Its own process id, not npx's: the process to signal (`$!` after `npx tsx ... &` is the wrapper).
  console.log(`pid=${process.pid}`);
  await runTransferDemo(new Client(clientOptionsFromEnv()), options, (line) => console.log(line));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
