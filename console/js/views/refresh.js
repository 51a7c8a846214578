// Refreshing a view when the cluster's state moves on: the live feed carries
// the applied index; a view reloads its page when it changed, never two loads
// at once and at most one per REFRESH_MS (a list page is a request to the
// leader, and the cluster may apply thousands of entries a second).

const REFRESH_MS = 500;

export function refresher(ctx, load) {
  let seenIndex = -1;
  let running = false;
  let again = false;
  let lastMs = 0;
  let timer = null;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const waitMs = lastMs + REFRESH_MS - Date.now();
    if (waitMs > 0) {
      timer ??= setTimeout(() => {
        timer = null;
        run();
      }, waitMs);
      return;
    }
    running = true;
    lastMs = Date.now();
    try {
      await load();
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  const off = ctx.onCluster((cluster) => {
    if (cluster.appliedIndex === seenIndex) return;
    seenIndex = cluster.appliedIndex;
    run();
  });
  return {
    /** Load now (a new filter or page), whatever the index. */
    now: () => {
      lastMs = 0;
      run();
    },
    stop: () => {
      stopped = true;
      off();
      clearTimeout(timer);
    },
  };
}
