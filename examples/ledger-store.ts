// A tiny in-process account store that checks fencing tokens, standing in for
// the database a bank transfer writes to (docs/safety.md #11). Reads and
// writes take a moment (as a network round trip would), so unguarded
// read-modify-write cycles of two workers interleave and lose updates. A
// write carries the writer's fencing token for that account; a token older
// than the newest one seen for the account is refused.

export class StaleTokenError extends Error {
  override readonly name = 'StaleTokenError';
  readonly code = 'stale_token';
  constructor(
    readonly account: string,
    readonly fencingToken: number,
    readonly newestToken: number,
  ) {
    super(`account ${account}: token ${fencingToken} is older than ${newestToken}; refused`);
  }
}

export class LedgerStore {
  private readonly balances = new Map<string, number>();
  private readonly newestToken = new Map<string, number>();
  refused = 0;

  constructor(
    opening: Record<string, number>,
    /** Each read and write waits this long: a round trip to a real database. */
    private readonly latencyMs = 1,
  ) {
    for (const [account, balance] of Object.entries(opening)) this.balances.set(account, balance);
  }

  private roundTrip(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.latencyMs));
  }

  async read(account: string): Promise<number> {
    await this.roundTrip();
    const balance = this.balances.get(account);
    if (balance === undefined) throw new Error(`no account ${account}`);
    return balance;
  }

  /** Fenced: refused if a newer token has written this account already. */
  async write(account: string, balance: number, fencingToken: number): Promise<void> {
    await this.roundTrip();
    if (!Number.isSafeInteger(fencingToken) || fencingToken <= 0) throw new Error(`bad fencing token ${fencingToken}`);
    const newest = this.newestToken.get(account) ?? 0;
    if (fencingToken < newest) {
      this.refused += 1;
      throw new StaleTokenError(account, fencingToken, newest);
    }
    this.newestToken.set(account, fencingToken);
    this.balances.set(account, balance);
  }

  total(): number {
    let sum = 0;
    for (const balance of this.balances.values()) sum += balance;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.balances);
  }
}
