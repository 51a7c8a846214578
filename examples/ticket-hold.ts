// ticket-hold: hold ticket `abc` for up to 10 minutes while a user checks out,
// release it on checkout, and fence the order write with the token.
//
//   npx lockstep cluster up        # in another terminal
//   npx tsx examples/ticket-hold.ts
//
// The story it prints:
//   1. alice holds ticket:abc (TTL 10 min) and starts checking out;
//   2. bob tries the same ticket and is told it is taken (no waiting);
//   3. alice pays: the order is written with her fencing token; the hold is released;
//   4. a paused checkout: carol holds with a short TTL and stalls past it; dave
//      gets the ticket and writes; carol wakes and writes with her old token —
//      the order store refuses it. (Her hold.signal had fired, too: a careful
//      client checks it before writing; the token check is what makes it safe
//      even for a careless or paused one.)

import { pathToFileURL } from 'node:url';
import { Client, isLockstepError } from 'lockstep-client';
import { clientOptionsFromEnv } from './client-env.js';
import { OrderStore, StaleTokenError } from './order-store.js';

export const TICKET_HOLD_TTL_MS = 10 * 60_000;
/** The shortest TTL the API allows, for the paused-checkout demo. */
const SHORT_TTL_MS = 1000;
/** How long carol "stalls": longer than her TTL, so her hold expires. */
const STALL_MS = 2500;

export async function runTicketDemo(client: Client, store: OrderStore, log: (line: string) => void, ticket = 'ticket:abc'): Promise<void> {
  // 1-3: the normal checkout.
  await client.withLock(ticket, { ttlMs: TICKET_HOLD_TTL_MS, owner: 'alice' }, async (hold) => {
    log(`alice holds ${ticket} token=${hold.fencingToken} for ${TICKET_HOLD_TTL_MS / 60_000} min`);
    try {
      await client.withLock(ticket, { ttlMs: TICKET_HOLD_TTL_MS, owner: 'bob', waitMs: 0 }, () => undefined);
      throw new Error('bob got a ticket that alice holds');
    } catch (err) {
      if (!isLockstepError(err, 'not_acquired')) throw err;
      log(`bob is told ${ticket} is taken`);
    }
    if (hold.signal.aborted) throw new Error('alice ran out of time: start over');
    store.write({ ticket, user: 'alice', fencingToken: hold.fencingToken });
    log(`alice checked out: order written with token=${hold.fencingToken}; releasing`);
  });

  // 4: a paused checkout.
  const carol = await client.acquire(ticket, { ttlMs: SHORT_TTL_MS, owner: 'carol' });
  if (!carol.acquired) throw new Error('carol should have got the free ticket');
  log(`carol holds ${ticket} token=${carol.fencingToken} (TTL ${SHORT_TTL_MS} ms) ... and stalls for ${STALL_MS} ms`);
  await new Promise((r) => setTimeout(r, STALL_MS));
  await client.withLock(ticket, { ttlMs: TICKET_HOLD_TTL_MS, owner: 'dave', waitMs: 5000 }, async (hold) => {
    store.write({ ticket, user: 'dave', fencingToken: hold.fencingToken });
    log(`dave checked out with token=${hold.fencingToken}`);
  });
  try {
    store.write({ ticket, user: 'carol', fencingToken: carol.fencingToken });
    throw new Error('the store accepted a stale token');
  } catch (err) {
    if (!(err instanceof StaleTokenError)) throw err;
    log(`carol wakes and writes with token=${carol.fencingToken}: REFUSED (${err.message})`);
  }
}

async function main(): Promise<void> {
  // Its own process id, not npx's: the process to signal (`$!` after `npx tsx ... &` is the wrapper).
  console.log(`pid=${process.pid}`);
  const store = new OrderStore();
  await runTicketDemo(new Client(clientOptionsFromEnv()), store, (line) => console.log(line));
  console.log(`orders: ${store.orders.map((o) => `${o.user}#${o.fencingToken}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
