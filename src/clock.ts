/**
 * The one source of "now" for business rules (order expiry, refund windows, escrow auto-confirm, hold
 * expiry, retry schedules). Everything time-driven asks this module, so a test clock can move it.
 *
 * Business time is wall time plus an offset that is zero unless the instance runs with a test clock
 * (TONGBAO_TEST_CLOCK=on, never in production), which operators advance through the admin API
 * (src/testclock). The offset is process-wide: every Tongbao in this process shares it, and every process
 * on the database follows the stored value (see src/testclock/index.ts).
 *
 * Protocol freshness (the gateway's timestamp window) is about the real world, not business time, and
 * uses realNow(). Jobs are stored with real run times: enqueue() converts with toRealTime().
 */
let offsetMs = 0;

export function now(): Date {
  return new Date(Date.now() + offsetMs);
}

/** Wall-clock time, whatever the test clock says. */
export function realNow(): Date {
  return new Date();
}

/** The wall-clock moment at which business time reaches `businessTime` (for scheduling jobs). */
export function toRealTime(businessTime: Date): Date {
  return new Date(businessTime.getTime() - offsetMs);
}

export function clockOffsetMs(): number {
  return offsetMs;
}

/** Only the test clock sets this. */
export function setClockOffsetMs(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`clock offset must be a non-negative integer of milliseconds, got ${value}`);
  offsetMs = value;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
