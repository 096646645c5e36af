/**
 * Remembers the callbacks accepted within the freshness window so the same one is accepted once.
 * UnionPay resends an identical callback until it gets HTTP 200, so a callback is named by what it reports —
 * (orderId, txnType, queryId) — not by a nonce. A callback older than the window is already refused as stale,
 * so its key can be forgotten when the window has passed. The set is capped: past the cap the oldest keys go
 * early, which reopens replay only for a flood far above real traffic instead of letting memory grow.
 */
export class CallbackWindow {
  // Map iteration follows insertion order and keys arrive in roughly time order, so the oldest come first.
  private readonly expiresAtMs = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('the callback window capacity must be a positive integer');
    if (!(windowMs > 0)) throw new Error('the callback window must be positive');
  }

  /** Records the key and returns true, or returns false when it was accepted within the window. */
  use(key: string, nowMs: number): boolean {
    for (const [seen, expiresAtMs] of this.expiresAtMs) {
      if (expiresAtMs > nowMs) break;
      this.expiresAtMs.delete(seen);
    }
    const expiresAtMs = this.expiresAtMs.get(key);
    if (expiresAtMs !== undefined && expiresAtMs > nowMs) return false;
    if (this.expiresAtMs.size >= this.capacity) {
      const oldest = this.expiresAtMs.keys().next();
      if (!oldest.done) this.expiresAtMs.delete(oldest.value);
    }
    this.expiresAtMs.delete(key);
    this.expiresAtMs.set(key, nowMs + this.windowMs);
    return true;
  }

  get size(): number {
    return this.expiresAtMs.size;
  }
}
