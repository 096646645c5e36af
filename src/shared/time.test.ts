import { describe, expect, it } from 'vitest';
import { formatWallClock, parseWallClock } from './time.js';

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
