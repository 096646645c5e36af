import { timestampWindowMs } from './protocol.js';

/**
 * Remembers the nonces seen within the timestamp window so a signed message is accepted once.
 * A message older than the window is already refused as stale, so a nonce can be forgotten when the window
 * has passed. The set is capped: past the cap the oldest nonces are forgotten early, which reopens a replay
 * window only for a flood far above any real traffic, instead of letting memory grow without limit.
 */
export class NonceWindow {
  // Map iteration follows insertion order, and nonces arrive in roughly time order, so the oldest come first.
  private readonly expiresAtMs = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('the nonce window capacity must be a positive integer');
  }

  /** Records the nonce and returns true, or returns false when it was seen within the window. */
  use(nonce: string, nowMs: number): boolean {
    this.forgetExpired(nowMs);
    const expiresAtMs = this.expiresAtMs.get(nonce);
    if (expiresAtMs !== undefined && expiresAtMs > nowMs) return false;
    if (this.expiresAtMs.size >= this.capacity) this.forgetOldest();
    // The message may carry a timestamp up to one window in the future, so keep it for two windows.
    this.expiresAtMs.set(nonce, nowMs + 2 * timestampWindowMs);
    return true;
  }

  get size(): number {
    return this.expiresAtMs.size;
  }

  private forgetExpired(nowMs: number): void {
    for (const [nonce, expiresAtMs] of this.expiresAtMs) {
      if (expiresAtMs > nowMs) return;
      this.expiresAtMs.delete(nonce);
    }
  }

  private forgetOldest(): void {
    const oldest = this.expiresAtMs.keys().next();
    if (!oldest.done) this.expiresAtMs.delete(oldest.value);
  }
}
