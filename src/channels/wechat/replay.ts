import { timestampWindowMs } from './protocol.js';

/**
 * Remembers callback nonces and notification ids seen within the timestamp window, so one signed callback
 * is accepted once. A callback older than the window is refused as stale anyway, so an entry can be
 * forgotten when the window has passed; entries are kept two windows because a timestamp may also be up to
 * one window in the future. The set is capped: past the cap the oldest entries go early, which reopens a
 * replay only for a flood far above any real callback traffic, instead of letting memory grow without limit.
 */
export class ReplayWindow {
  // Map iteration follows insertion order, and entries arrive in roughly time order, so the oldest come first.
  private readonly expiresAtMs = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('the replay window capacity must be a positive integer');
  }

  /** True when none of the keys was seen within the window; records them all then. */
  useAll(keys: readonly string[], nowMs: number): boolean {
    this.forgetExpired(nowMs);
    if (keys.some((key) => (this.expiresAtMs.get(key) ?? 0) > nowMs)) return false;
    for (const key of keys) {
      if (this.expiresAtMs.size >= this.capacity) this.forgetOldest();
      this.expiresAtMs.delete(key);
      this.expiresAtMs.set(key, nowMs + 2 * timestampWindowMs);
    }
    return true;
  }

  get size(): number {
    return this.expiresAtMs.size;
  }

  private forgetExpired(nowMs: number): void {
    for (const [key, expiresAtMs] of this.expiresAtMs) {
      if (expiresAtMs > nowMs) return;
      this.expiresAtMs.delete(key);
    }
  }

  private forgetOldest(): void {
    const oldest = this.expiresAtMs.keys().next();
    if (!oldest.done) this.expiresAtMs.delete(oldest.value);
  }
}
