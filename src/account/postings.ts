/**
 * The entries of account postings, as pure functions. Every hold is double-entry too: freezing moves money
 * from the available ledger account to the frozen one, and releasing moves it back.
 */
import type { Entry } from '../ledger/index.js';
import type { UserAccount } from './users.js';

/** Available -> frozen: a disputed sum, or a withdrawal's hold while the channel pays out. */
export function holdEntries(account: Pick<UserAccount, 'available' | 'frozen'>, amountMinor: bigint): Entry[] {
  return [
    { account: account.available, side: 'DEBIT', amountMinor },
    { account: account.frozen, side: 'CREDIT', amountMinor },
  ];
}

/** Frozen -> available: the hold is released. */
export function releaseEntries(account: Pick<UserAccount, 'available' | 'frozen'>, amountMinor: bigint): Entry[] {
  return [
    { account: account.frozen, side: 'DEBIT', amountMinor },
    { account: account.available, side: 'CREDIT', amountMinor },
  ];
}

/**
 * A change of a credit limit by `deltaMinor` (positive: raised): the line and what remains available move
 * together, so what the user owes (line - available - frozen) does not change. Empty when nothing changes.
 */
export function creditLimitEntries(account: Pick<UserAccount, 'available' | 'creditLine'>, deltaMinor: bigint): Entry[] {
  if (!account.creditLine) throw new Error('not a credit account');
  if (deltaMinor === 0n) return [];
  const amountMinor = deltaMinor > 0n ? deltaMinor : -deltaMinor;
  return deltaMinor > 0n
    ? [{ account: account.creditLine, side: 'DEBIT', amountMinor }, { account: account.available, side: 'CREDIT', amountMinor }]
    : [{ account: account.available, side: 'DEBIT', amountMinor }, { account: account.creditLine, side: 'CREDIT', amountMinor }];
}
