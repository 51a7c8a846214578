// Durations as people read them (`10m0s`, `4.2s`, `350ms`), not raw
// milliseconds (`600318ms`). Like Go's time.Duration.String, but whole
// seconds from a minute up and one decimal below: a table column, not a
// measurement.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < SECOND_MS) return `${Math.round(ms)}ms`;
  if (ms < MINUTE_MS) {
    const tenths = Math.floor(ms / 100) / 10;
    return `${tenths}s`;
  }
  const totalSeconds = Math.floor(ms / SECOND_MS);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return ms >= HOUR_MS ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
