import { describe, expect, it } from 'vitest';
import { coinsFor, formatUnits, maskIdNumber, maskName, parseUnits, validIdNumber } from './units.js';

describe('account units', () => {
  it('coins bought by an amount follow the rule and are never rounded', () => {
    expect(coinsFor(150n, 'CNY', 10n)).toBe(15n);
    expect(coinsFor(1n, 'CNY', 100n)).toBe(1n);
    expect(coinsFor(15n, 'CNY', 10n)).toBeNull();
    expect(coinsFor(3n, 'JPY', 2n)).toBe(6n);
  });

  it('coin amounts are whole numbers; money keeps its exponent', () => {
    expect(parseUnits('120', 'C:app1:GOLD')).toEqual({ ok: true, amountMinor: 120n });
    expect(parseUnits('1.5', 'C:app1:GOLD').ok).toBe(false);
    expect(parseUnits('0', 'C:app1:GOLD').ok).toBe(false);
    expect(parseUnits('-3', 'C:app1:GOLD').ok).toBe(false);
    expect(parseUnits('1.50', 'CNY')).toEqual({ ok: true, amountMinor: 150n });
    expect(formatUnits(120n, 'C:app1:GOLD')).toBe('120');
    expect(formatUnits(150n, 'CNY')).toBe('1.50');
  });

  it('masks real names and id numbers', () => {
    expect(maskName('张三丰')).toBe('*三丰');
    expect(maskName('李')).toBe('*');
    expect(maskIdNumber('11010519491231002X')).toBe('110***********002X');
  });

  it('checks the resident id check character', () => {
    expect(validIdNumber('ID_CARD', '11010519491231002X')).toBe(true);
    expect(validIdNumber('ID_CARD', '110105194912310021')).toBe(false);
    expect(validIdNumber('PASSPORT', 'E12345678')).toBe(true);
    expect(validIdNumber('PASSPORT', 'x')).toBe(false);
  });
});
