import { luhnValid } from '../agreement/cards.js';

/**
 * Hides card data in text Tongbao echoes back or logs (the string it verified for a failed signature): every
 * standalone run of 13 to 19 digits with a valid Luhn check digit, as a card number has, keeps only its last four,
 * and the values of the CVV, expiry and verification-code fields are replaced. `keep` lists digit runs known not
 * to be cards (the app_id), which would otherwise be masked whenever their last digit happens to fit.
 */
export function redactCardData(text: string, keep: readonly string[] = []): string {
  return text
    .replace(/(?<!\d)\d{13,19}(?!\d)/g, (digits) => (!keep.includes(digits) && luhnValid(digits) ? `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}` : digits))
    .replace(/("(?:card_cvv|card_expiry|verify_code)"\s*:\s*)"[^"]*"/g, '$1"[redacted]"');
}
