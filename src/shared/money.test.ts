import { describe, expect, it } from 'vitest';
import { formatAmount, parseAmount } from './money.js';

describe('parseAmount', () => {
  it('converts major-unit decimals to minor units with the currency exponent', () => {
    expect(parseAmount('12.34', 'CNY')).toEqual({ ok: true, amountMinor: 1234n });
    expect(parseAmount('12.3', 'CNY')).toEqual({ ok: true, amountMinor: 1230n });
    expect(parseAmount('12', 'USD')).toEqual({ ok: true, amountMinor: 1200n });
    expect(parseAmount('500', 'JPY')).toEqual({ ok: true, amountMinor: 500n });
    expect(parseAmount('1.234', 'KWD')).toEqual({ ok: true, amountMinor: 1234n });
  });

  it('rejects over-precise, negative, zero, huge and non-numeric amounts', () => {
    expect(parseAmount('1.234', 'CNY')).toMatchObject({ ok: false, reason: 'CNY allows at most 2 decimal places' });
    expect(parseAmount('1.5', 'JPY')).toMatchObject({ ok: false });
    expect(parseAmount('-1.00', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount('0', 'CNY')).toMatchObject({ ok: false, reason: 'must be greater than zero' });
    expect(parseAmount('0.00', 'CNY')).toMatchObject({ ok: false, reason: 'must be greater than zero' });
    expect(parseAmount('99999999999999999', 'CNY')).toMatchObject({ ok: false, reason: 'is too large' });
    expect(parseAmount('1e5', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount('abc', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount(' 1.00', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount('1.', 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount(null, 'CNY')).toMatchObject({ ok: false });
    expect(parseAmount('１２', 'CNY')).toMatchObject({ ok: false });
  });
});

describe('formatAmount', () => {
  it('formats minor units with the currency exponent', () => {
    expect(formatAmount(1234n, 'CNY')).toBe('12.34');
    expect(formatAmount(5n, 'CNY')).toBe('0.05');
    expect(formatAmount(500n, 'JPY')).toBe('500');
    expect(formatAmount(1n, 'KWD')).toBe('0.001');
    expect(formatAmount(-250n, 'USD')).toBe('-2.50');
  });
});
