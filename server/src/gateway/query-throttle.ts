/**
 * At most one gateway query per session per interval, however often a browser reads the session or reloads
 * the return page. In memory on purpose: it only spares the gateway, it decides nothing about money.
 */

/** Remembered sessions at most; past it, the oldest are forgotten (a forgotten one may be queried again). */
const MAX_REMEMBERED = 10_000;

export class QueryThrottle {
  private readonly lastQuery = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Whether a query for `sessionId` is due at `now`; if so, it is counted as made. */
  take(sessionId: string, now: number): boolean {
    const last = this.lastQuery.get(sessionId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastQuery.delete(sessionId);
    this.lastQuery.set(sessionId, now);
    if (this.lastQuery.size > MAX_REMEMBERED) {
      this.lastQuery.delete(this.lastQuery.keys().next().value!);
    }
    return true;
  }
}
