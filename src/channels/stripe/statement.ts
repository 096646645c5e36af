/**
 * The daily statement: Stripe's balance transactions created on one UTC day, as CSV. Amounts stay Stripe's
 * integers (the currency's minor units, the same exponent as Tongbao's), negative for money going out;
 * currency is the ISO code in upper case and `created` an ISO-8601 UTC instant.
 */
import { instantOf, referenceId, type BalanceTransactionWire } from './protocol.js';

export const statementHeader = 'id,type,source,amount,fee,net,currency,created';

/** Quotes a field when CSV needs it (a comma, a quote or a line break in it). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function statementLine(transaction: BalanceTransactionWire): string {
  return [
    transaction.id,
    transaction.type,
    referenceId(transaction.source) ?? '',
    String(transaction.amount),
    String(transaction.fee),
    String(transaction.net),
    transaction.currency.toUpperCase(),
    instantOf(transaction.created).toISOString(),
  ].map(csvField).join(',');
}

/** The CSV text: the header line, then one line per transaction, each line ending in a newline. */
export function statementCsv(transactions: readonly BalanceTransactionWire[]): string {
  // Stripe lists newest first; a statement reads oldest first (the sort is stable, so ties keep their order).
  const oldestFirst = [...transactions].reverse().sort((a, b) => a.created - b.created);
  return [statementHeader, ...oldestFirst.map(statementLine)].map((line) => `${line}\n`).join('');
}
