// A tiny in-process order store that checks fencing tokens, standing in for
// the database a real checkout writes to (docs/safety.md #11: a lease
// alone cannot stop a paused former holder; the resource must refuse it).
// It remembers the largest token seen per ticket and refuses smaller ones.

export interface Order {
  ticket: string;
  user: string;
  fencingToken: number;
}

export class StaleTokenError extends Error {
  override readonly name = 'StaleTokenError';
  readonly code = 'stale_token';
  constructor(
    readonly ticket: string,
    readonly fencingToken: number,
    readonly newestToken: number,
  ) {
    super(`ticket ${ticket}: token ${fencingToken} is older than ${newestToken}; refused`);
  }
}

export class OrderStore {
  private readonly newestToken = new Map<string, number>();
  readonly orders: Order[] = [];

  /** Write an order for a ticket, fenced: a token older than one already seen for the ticket is refused. */
  write(order: Order): void {
    if (!Number.isSafeInteger(order.fencingToken) || order.fencingToken <= 0) throw new Error(`bad fencing token ${order.fencingToken}`);
    const newest = this.newestToken.get(order.ticket) ?? 0;
    if (order.fencingToken < newest) throw new StaleTokenError(order.ticket, order.fencingToken, newest);
    this.newestToken.set(order.ticket, order.fencingToken);
    this.orders.push({ ...order });
  }
}
