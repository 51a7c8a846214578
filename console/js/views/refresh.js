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

/** `onCluster(listener)` subscribes to cluster events and returns the unsubscribe; `now()` is the clock (ms). */
export function refresher(ctx, load, now = () => Date.now()) {
  let seenIndex = -1;
  let running = false;
  let again = false;
  let earliestMs = 0;
  let timer = null;
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
    stop: () => {
      stopped = true;
      off();
      clearTimeout(timer);
    },
  };
}
