/**
 * Card numbers, checked and made safe: the Luhn check digit, the BIN lookup, and the token that stands for the
 * number everywhere in Tongbao. Pure functions, unit tested in cards.test.ts.
 *
 * A card number is kept only in memory, for the one call that sends it to the bank. What is stored is an
 * HMAC-SHA256 of the number under a key derived from the master key (the same card always gives the same token,
 * so a user's card is recognised again, but the token cannot be turned back into the number without the key),
 * plus its last four digits.
 */
import { createHmac } from 'node:crypto';
import { binRanges, type BinRange, type CardType } from './card-bins.js';

export type { CardType } from './card-bins.js';

export interface CardInfo {
  readonly bank: string;
  readonly bankName: string;
  readonly cardType: CardType;
  readonly region: string;
  readonly last4: string;
}

export type CardInspection =
  | { readonly ok: true; readonly card: CardInfo }
  | { readonly ok: false; readonly problem: 'NOT_DIGITS' | 'LUHN' | 'UNKNOWN_BIN'; readonly message: string };

/** The Luhn (mod 10) check over every digit, check digit included. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

let binIndex: Map<string, BinRange> | null = null;

/** Prefixes by "length:prefix"; built once. Where two ranges share a prefix and length, the first listed wins. */
function index(): Map<string, BinRange> {
  if (binIndex) return binIndex;
  binIndex = new Map();
  for (const range of binRanges) {
    for (const prefix of range.prefixes.split(/\s+/)) {
      if (prefix === '') continue;
      const key = `${range.length}:${prefix}`;
      if (!binIndex.has(key)) binIndex.set(key, range);
    }
  }
  return binIndex;
}

/** The issuer of a number by its longest known prefix (8 down to 6 digits) for its length, or null. */
export function lookupBin(digits: string): BinRange | null {
  const table = index();
  for (let length = 8; length >= 6; length -= 1) {
    const range = table.get(`${digits.length}:${digits.slice(0, length)}`);
    if (range) return range;
  }
  return null;
}

/**
 * Checks a card number: 12 to 19 digits, a valid Luhn check digit, and an issuer in the BIN table. An unknown
 * BIN is refused: signing is a contract with the issuing bank, so Tongbao must know which bank that is.
 * The messages never repeat the number.
 */
export function inspectCard(number: string): CardInspection {
  if (!/^[0-9]{12,19}$/.test(number)) return { ok: false, problem: 'NOT_DIGITS', message: 'card_no must be 12 to 19 digits' };
  if (!luhnValid(number)) return { ok: false, problem: 'LUHN', message: `card_no ending ${number.slice(-4)} fails the Luhn check; a digit is mistyped` };
  const range = lookupBin(number);
  if (!range) return { ok: false, problem: 'UNKNOWN_BIN', message: `card_no ending ${number.slice(-4)} has a BIN (${number.slice(0, 6)}) that no known bank issues` };
  return { ok: true, card: { bank: range.bank, bankName: range.name, cardType: range.cardType, region: range.region, last4: number.slice(-4) } };
}

/** The card's token: HMAC-SHA256 of the number under the card key, in hex. */
export function cardToken(cardKey: Buffer, number: string): string {
  return createHmac('sha256', cardKey).update(number, 'utf8').digest('hex');
}

/** How a card is shown anywhere: its last four digits behind stars. */
export function maskedCardNo(last4: string): string {
  return `**** **** **** ${last4}`;
}
