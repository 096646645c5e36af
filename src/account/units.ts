/**
 * Pure rules of accounts: amounts in money or in coins, the coin exchange rule, masking of real-name data.
 * Coins are whole units (exponent 0) in their own ledger currency, C:<app_id>:<unit>.
 */
import { isCoinCurrency } from '../ledger/accounts.js';
import { currencyExponent, formatAmount, maxAmountMinor, parseAmount, type AmountParseResult } from '../shared/money.js';

/** Formats minor units of money, or a count of coins, for the API edge. */
export function formatUnits(amountMinor: bigint, currency: string): string {
  return isCoinCurrency(currency) ? amountMinor.toString() : formatAmount(amountMinor, currency);
}

/** Parses an amount of money ("12.34") or of coins (a whole number, "120"). */
export function parseUnits(value: unknown, currency: string): AmountParseResult {
  if (!isCoinCurrency(currency)) return parseAmount(value, currency);
  if (typeof value !== 'string' && typeof value !== 'number') return { ok: false, reason: 'must be a whole number of coins such as "100"' };
  const text = String(value);
  if (!/^\d{1,18}$/.test(text)) return { ok: false, reason: `"${text.slice(0, 40)}" is not a whole number of coins` };
  const coins = BigInt(text);
  if (coins <= 0n) return { ok: false, reason: 'must be greater than zero' };
  if (coins > maxAmountMinor) return { ok: false, reason: 'is too large' };
  return { ok: true, amountMinor: coins };
}

/**
 * The coins bought by an amount of money under the rule "coinsPerUnit coins for one major unit": CNY 1.50
 * at 10 per unit buys 15 coins. An amount that would buy part of a coin is refused (null), never rounded.
 */
export function coinsFor(amountMinor: bigint, currency: string, coinsPerUnit: bigint): bigint | null {
  const scale = 10n ** BigInt(currencyExponent(currency));
  const product = amountMinor * coinsPerUnit;
  return product % scale === 0n ? product / scale : null;
}

/** "张三丰" -> "*三丰"; "Li Lei" -> "*i Lei": enough to recognize, not to read. */
export function maskName(name: string): string {
  const characters = [...name];
  return characters.length <= 1 ? '*' : `*${characters.slice(1).join('')}`;
}

/** "110101199003077777" -> "110***********7777": the region and the last four only. */
export function maskIdNumber(idNumber: string): string {
  const characters = [...idNumber];
  if (characters.length <= 7) return '*'.repeat(characters.length);
  return `${characters.slice(0, 3).join('')}${'*'.repeat(characters.length - 7)}${characters.slice(-4).join('')}`;
}

/** Mainland resident ID: 17 digits and a check character (ISO 7064 MOD 11-2). Other id types are only length-checked. */
export function validIdNumber(idType: string, idNumber: string): boolean {
  if (idType !== 'ID_CARD') return /^[A-Za-z0-9-]{5,32}$/.test(idNumber);
  if (!/^\d{17}[\dX]$/.test(idNumber)) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((total, weight, index) => total + weight * Number(idNumber[index]), 0);
  return '10X98765432'[sum % 11] === idNumber[17];
}
