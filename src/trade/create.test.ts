import { describe, expect, it } from 'vitest';
import { aboveAppLimit, parseTimeoutExpress } from './create.js';

describe('aboveAppLimit', () => {
  it('applies the limit in the major unit of the trade currency', () => {
    const limit = 1_000_000n; // 10000.00
    expect(aboveAppLimit(1_000_000n, 'CNY', limit)).toBe(false);
    expect(aboveAppLimit(1_000_001n, 'CNY', limit)).toBe(true);
    expect(aboveAppLimit(10_000n, 'JPY', limit)).toBe(false);
    expect(aboveAppLimit(10_001n, 'JPY', limit)).toBe(true);
    expect(aboveAppLimit(10_000_000n, 'KWD', limit)).toBe(false);
    expect(aboveAppLimit(10_000_001n, 'KWD', limit)).toBe(true);
  });
});

describe('parseTimeoutExpress', () => {
  it('reads minutes, hours and days up to 15 days, default 30 minutes', () => {
    expect(parseTimeoutExpress(undefined)).toBe(1800);
    expect(parseTimeoutExpress('90m')).toBe(5400);
    expect(parseTimeoutExpress('2h')).toBe(7200);
    expect(parseTimeoutExpress('15d')).toBe(15 * 86400);
    expect(parseTimeoutExpress('16d')).toBeNull();
    expect(parseTimeoutExpress('0m')).toBeNull();
    expect(parseTimeoutExpress('1.5h')).toBeNull();
    expect(parseTimeoutExpress('1c')).toBeNull();
  });
});
