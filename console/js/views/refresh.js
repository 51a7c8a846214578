// Refreshing a view when the cluster's state moves on: the live feed carries
// the applied index; a view reloads its page when it changed — never two
// loads at once, and after a load at least REFRESH_MS or WAIT_PER_LOAD times
// as long as that load took, whichever is longer (a load the user asked for —
// a page, a filter — is not counted: the first load of a page is slow for
// reasons of its own, and must not delay the next change). A list page is a request to
// the leader (with 100,000 locks one took ~250 ms there); a busy cluster
// applies thousands of entries a second, and an open console must not become
// the leader's main load.

export const REFRESH_MS = 500;
export const WAIT_PER_LOAD = 4;
/** due(): the shortest wait, so that a deadline already passed (not yet reaped) is no tight loop. */
export const DUE_MIN_MS = 1_000;
/** due(): past the deadline by this much, so the answer is the one after it. */
const DUE_SLACK_MS = 200;

/** How long to wait before loading again what runs out in `msLeft` (due()'s rule, for views with their own loop). */
export function dueDelayMs(msLeft) {
  return Math.max(DUE_MIN_MS, msLeft + DUE_SLACK_MS);
}

/** `onCluster(listener)` subscribes to cluster events and returns the unsubscribe; `now()` is the clock (ms). */
export function refresher(ctx, load, now = () => Date.now()) {
  let seenIndex = -1;
  let running = false;
  let again = false;
  let earliestMs = 0;
  let timer = null;
  let dueTimer = null;
  let stopped = false;
  const run = async (asked = false) => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const waitMs = earliestMs - now();
    if (waitMs > 0) {
      timer ??= setTimeout(() => {
        timer = null;
        run();
      }, waitMs);
      return;
    }
    running = true;
    const startedMs = now();
    try {
      await load();
    } finally {
      running = false;
      earliestMs = now() + (asked ? REFRESH_MS : Math.max(REFRESH_MS, WAIT_PER_LOAD * (now() - startedMs)));
      if (again) {
        again = false;
        run();
      }
    }
  };
  const off = ctx.onCluster((cluster) => {
    if (cluster.appliedIndex === seenIndex) return;
    // The first index seen is where the view starts: its own first load (now()) shows it.
    const first = seenIndex === -1;
    seenIndex = cluster.appliedIndex;
    if (!first) run();
  });
  return {
    /** Load now (a new filter or page), whatever the index; still never two at once. */
    now: () => {
      earliestMs = 0;
      clearTimeout(timer);
      timer = null;
      run(true);
    },
    /**
     * Load again when what the view shows runs out in `msLeft` (null: nothing does). A session's
     * time left moves with keepalives, and a keepalive is no log entry: no index says it moved.
     */
    due: (msLeft) => {
      clearTimeout(dueTimer);
      dueTimer = msLeft === null || msLeft === undefined ? null : setTimeout(() => {
        dueTimer = null;
        run();
      }, dueDelayMs(msLeft));
    },
    stop: () => {
      stopped = true;
      off();
      clearTimeout(timer);
      clearTimeout(dueTimer);
    },
  };
}
