import { describe, expect, it } from 'vitest';
import { formatWallClock, nextCutoff, parseWallClock } from './time.js';

describe('wall clock in a zone', () => {
  it('reads Beijing time as UTC+8', () => {
    expect(parseWallClock('2026-11-21 08:00:00', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(formatWallClock(new Date('2026-11-21T00:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-21 08:00:00');
  });

  it('follows daylight saving in zones that have it', () => {
    expect(parseWallClock('2026-07-01 12:00:00', 'Europe/Berlin')?.toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(parseWallClock('2026-01-01 12:00:00', 'Europe/Berlin')?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('formats across a daylight-saving transition', () => {
    expect(formatWallClock(new Date('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe('2026-03-29 01:59:59');
    expect(formatWallClock(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29 03:00:00');
    expect(formatWallClock(new Date('2026-11-21T15:59:59.999Z'), 'Asia/Shanghai')).toBe('2026-11-21 23:59:59');
  });

  it('rejects impossible dates and other shapes', () => {
    expect(parseWallClock('2026-02-30 12:00:00', 'UTC')).toBeNull();
    expect(parseWallClock('2026-01-01 24:00:00', 'UTC')).toBeNull();
    expect(parseWallClock('2026-01-01T12:00:00', 'UTC')).toBeNull();
    expect(parseWallClock('1700000000', 'UTC')).toBeNull();
  });
});

describe('nextCutoff', () => {
  const zone = 'Asia/Shanghai';
  const at = (text: string) => parseWallClock(text, zone)!;
  it('ends the business day at the cut-off, moving a payment after it to the next day', () => {
    expect(nextCutoff(at('2026-11-21 10:00:00'), '23:00', zone)).toEqual(at('2026-11-21 23:00:00'));
    expect(nextCutoff(at('2026-11-21 22:59:59'), '23:00', zone)).toEqual(at('2026-11-21 23:00:00'));
    expect(nextCutoff(at('2026-11-21 23:00:00'), '23:00', zone)).toEqual(at('2026-11-22 23:00:00'));
    expect(nextCutoff(at('2026-11-21 23:40:00'), '23:00', zone)).toEqual(at('2026-11-22 23:00:00'));
    expect(nextCutoff(at('2026-12-31 23:59:00'), '00:00', zone)).toEqual(at('2027-01-01 00:00:00'));
  });
  it('follows daylight-saving zones by wall clock', () => {
    const ny = 'America/New_York';
    expect(formatWallClock(nextCutoff(parseWallClock('2026-03-07 12:00:00', ny)!, '23:00', ny), ny)).toBe('2026-03-07 23:00:00');
    expect(formatWallClock(nextCutoff(parseWallClock('2026-03-08 12:00:00', ny)!, '23:00', ny), ny)).toBe('2026-03-08 23:00:00');
  });
  it('refuses a malformed cut-off', () => {
    expect(() => nextCutoff(new Date(), '25:00', zone)).toThrow(/HH:mm/);
  });
});
