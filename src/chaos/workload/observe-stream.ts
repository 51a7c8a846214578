// Election observers on the server's event stream
// (GET /v1/elections/{name}/observe): each stream records every `leader`
// event it sees. A stream reflects one node's applied state, which only moves
// forward, so within a stream the leader's term (a fencing token: a Raft
// index) never goes back, and every term shown was won by some campaign.
import type { Prng } from '../prng.js';

export interface ObserveEvent {
  stream: number;
  node: string;
  election: string;
  atMs: number;
  term: number | null;
  /** x-lockstep-index style index of the event, if sent. */
  index: number | null;
}

/** A stream is dropped and reopened elsewhere after this long, so streams see several nodes. */
export const STREAM_LIFETIME_MS_MAX = 15_000;
/** No bytes for this long: the node is presumed paused or cut off. */
export const STREAM_IDLE_MS_MAX = 5_000;

export async function observeStreamLoop(
  election: string,
  apiUrls: () => Array<{ node: string; url: string }>,
  running: () => boolean,
  nowMs: () => number,
  prng: Prng,
  record: (e: ObserveEvent) => void,
  nextStreamId: () => number,
  /** How requests are sent (a TLS run: HTTPS trusting the cluster CA). */
  through: typeof fetch = fetch,
): Promise<void> {
  while (running()) {
    const target = prng.pick(apiUrls());
    const stream = nextStreamId();
    const controller = new AbortController();
    const stopAt = nowMs() + prng.int(3000, STREAM_LIFETIME_MS_MAX);
    let lastByteMs = nowMs();
    const watchdog = setInterval(() => {
      if (!running() || nowMs() > stopAt || nowMs() - lastByteMs > STREAM_IDLE_MS_MAX) controller.abort();
    }, 250);
    try {
      const res = await through(`${target.url}/v1/elections/${encodeURIComponent(election)}/observe`, { signal: controller.signal });
      if (res.ok && res.body) {
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body) {
          lastByteMs = nowMs();
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let sep: number;
          while ((sep = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, sep);
            buffer = buffer.slice(sep + 2);
            const event = /^event: *(.*)$/m.exec(block)?.[1];
            const data = /^data: *(.*)$/m.exec(block)?.[1];
            if (event !== 'leader' || data === undefined) continue;
            const parsed = JSON.parse(data) as { leader?: { term?: number } | null; index?: number };
            record({ stream, node: target.node, election, atMs: nowMs(), term: parsed.leader?.term ?? null, index: parsed.index ?? null });
          }
        }
      }
    } catch {
      // Aborted, refused, reset: open another stream.
    } finally {
      clearInterval(watchdog);
    }
    if (running()) await new Promise((r) => setTimeout(r, 200));
  }
}
