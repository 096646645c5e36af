/**
 * The one source of "now" for business rules (order expiry, timestamp windows, retry schedules).
 * Everything time-driven asks this module, so a test clock can later replace it in one place.
 */
export function now(): Date {
  return new Date();
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
