// `lockstep observe` and `lockstep watch`: follow a stream of the SDK (which
// moves to the next endpoint when one drops) until Ctrl-C stops it.

import type { Client } from 'lockstep-client';
import { interruptSignal } from './child.js';
import { withClientErrors } from './endpoints.js';

/** Hand every item of `open(signal)` to `each` until Ctrl-C; an error (also one `each` throws) is said as every command says it. */
export async function followUntilInterrupted<T>(client: Client, open: (signal: AbortSignal) => AsyncIterable<T>, each: (item: T) => void): Promise<void> {
  const interrupt = interruptSignal();
  try {
    await withClientErrors(client, async () => {
      for await (const item of open(interrupt.signal)) each(item);
    });
  } finally {
    interrupt.dispose();
  }
}
