import { luhnValid } from '../../src/agreement/cards.js';

/** A card number of the given length starting with `prefix`, its body from `seed`, with a valid Luhn check digit. */
export function cardNumber(prefix: string, length: number, seed = 7): string {
  let body = prefix;
  let state = seed;
  while (body.length < length - 1) {
    state = (state * 7919 + 13) % 10007;
    body += String(state % 10);
  }
  for (let check = 0; check <= 9; check += 1) {
    if (luhnValid(`${body}${check}`)) return `${body}${check}`;
  }
  throw new Error('unreachable: one check digit always fits');
}

/** The same number with its last digit changed, so that it fails the Luhn check. */
export function withBadCheckDigit(number: string): string {
  const last = Number(number.at(-1));
  return `${number.slice(0, -1)}${(last + 1) % 10}`;
}

/** An ABC debit card (19 digits) whose number ends in `last4`, such as the sandbox's declined card 4004. */
export function cardEnding(last4: string, prefix = '622848'): string {
  for (let digit = 0; digit <= 9; digit += 1) {
    const candidate = `${cardNumber(prefix, 19).slice(0, 14)}${digit}${last4}`;
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error('unreachable: one digit always fits');
}
