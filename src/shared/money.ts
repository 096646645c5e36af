/**
 * Money is an integer count of the currency's minor unit (bigint) plus an ISO 4217 code.
 * Decimal strings exist only at the API edge; these functions are the only conversions.
 */
const minorDigits: Readonly<Record<string, number>> = {
  CNY: 2, USD: 2, EUR: 2, GBP: 2, HKD: 2, SGD: 2, AUD: 2, CAD: 2, CHF: 2, TWD: 2, MOP: 2,
  JPY: 0, KRW: 0, VND: 0,
  KWD: 3, BHD: 3, JOD: 3,
};

/** The largest amount any request may carry: 10^15 minor units, far below 2^63 so sums cannot overflow. */
export const maxAmountMinor = 10n ** 15n;

export function isSupportedCurrency(currency: string): boolean {
  return Object.hasOwn(minorDigits, currency);
}

export function currencyExponent(currency: string): number {
  const digits = minorDigits[currency];
  if (digits === undefined) throw new Error(`unsupported currency ${currency}`);
  return digits;
}

export type AmountParseResult = { ok: true; amountMinor: bigint } | { ok: false; reason: string };

/** Parses a decimal string in major units ("12.34") into minor units, rejecting anything ambiguous. */
export function parseAmount(text: unknown, currency: string): AmountParseResult {
  if (typeof text !== 'string' && typeof text !== 'number') return { ok: false, reason: 'must be a decimal string such as "12.34"' };
  const value = String(text);
  const match = /^(\d{1,18})(?:\.(\d+))?$/.exec(value);
  if (!match) return { ok: false, reason: `"${value.slice(0, 40)}" is not a non-negative decimal number` };
  const exponent = currencyExponent(currency);
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return { ok: false, reason: `${currency} allows at most ${exponent} decimal places` };
  }
  const amountMinor = BigInt(match[1]!) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (amountMinor <= 0n) return { ok: false, reason: 'must be greater than zero' };
  if (amountMinor > maxAmountMinor) return { ok: false, reason: 'is too large' };
  return { ok: true, amountMinor };
}

/** Formats minor units as the currency's decimal string: 1234n CNY -> "12.34", 5n JPY -> "5". */
export function formatAmount(amountMinor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
