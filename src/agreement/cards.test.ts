import { describe, expect, it } from 'vitest';
import { cardNumber, withBadCheckDigit } from '../../test/helpers/cards.js';
import { cardToken, inspectCard, lookupBin, luhnValid, maskedCardNo } from './cards.js';

describe('card numbers', () => {
  it('checks the Luhn digit of known-good and mistyped numbers', () => {
    // Published test numbers (Stripe's Visa, Mastercard and Amex test cards).
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('5555555555554444')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(luhnValid(withBadCheckDigit(cardNumber('622202', 19)))).toBe(false);
  });

  it('finds the issuer, card type and region of the big Chinese banks and foreign cards', () => {
    expect(lookupBin(cardNumber('622202', 19))).toMatchObject({ bank: 'ICBC', cardType: 'DEBIT', region: 'CN' });
    expect(lookupBin(cardNumber('622848', 19))).toMatchObject({ bank: 'ABC', cardType: 'DEBIT' });
    expect(lookupBin(cardNumber('621700', 19))).toMatchObject({ bank: 'CCB', cardType: 'DEBIT' });
    expect(lookupBin('4242424242424242')).toMatchObject({ bank: 'VISA', cardType: 'CREDIT', region: 'US' });
    expect(lookupBin('378282246310005')).toMatchObject({ bank: 'AMEX', cardType: 'CREDIT' });
    // The right prefix with the wrong length is not that bank's card.
    expect(lookupBin(cardNumber('622202', 16))).toBeNull();
  });

  it('refuses bad numbers without repeating them', () => {
    const luhn = inspectCard(withBadCheckDigit(cardNumber('622202', 19)));
    expect(luhn).toMatchObject({ ok: false, problem: 'LUHN' });
    const unknown = cardNumber('999999', 16);
    const inspection = inspectCard(unknown);
    expect(inspection).toMatchObject({ ok: false, problem: 'UNKNOWN_BIN' });
    expect(JSON.stringify(inspection)).not.toContain(unknown);
    expect(inspectCard('6222 0212 3456')).toMatchObject({ ok: false, problem: 'NOT_DIGITS' });
    expect(inspectCard('12345678901')).toMatchObject({ ok: false, problem: 'NOT_DIGITS' });
  });

  it('gives one token per card and key, never the number', () => {
    const number = cardNumber('622202', 19);
    const key = Buffer.alloc(32, 1);
    expect(cardToken(key, number)).toBe(cardToken(key, number));
    expect(cardToken(key, number)).not.toBe(cardToken(Buffer.alloc(32, 2), number));
    expect(cardToken(key, number)).not.toContain(number.slice(0, 12));
    expect(maskedCardNo(number.slice(-4))).toBe(`**** **** **** ${number.slice(-4)}`);
  });
});
