// The event trace of one run: one line per event. Off in bulk runs (string
// building dominates otherwise); a failing seed is replayed with it on.

export class Trace {
  readonly lines: string[] = [];

  constructor(readonly enabled: boolean, private readonly echo: ((line: string) => void) | null = null) {}

  add(step: number, text: string): void {
    if (!this.enabled) return;
    const line = `${String(step).padStart(4, ' ')} ${text}`;
    this.lines.push(line);
    if (this.echo) this.echo(line);
  }

  /** The last `count` lines, for a failure report. */
  tail(count: number): string[] {
    return this.lines.slice(-count);
  }
}
