/**
 * The chart of accounts Tongbao posts to, as data. Codes are stable strings so postings name
 * accounts without lookups; `shardCount` > 1 marks hot accounts whose balance is split across rows.
 */
export type NormalSide = 'DEBIT' | 'CREDIT';
export type OwnerType = 'PLATFORM' | 'MERCHANT' | 'CHANNEL' | 'USER' | 'APP';

export interface AccountSpec {
  readonly code: string;
  readonly kind: string;
  readonly ownerType: OwnerType;
  readonly ownerId: string;
  readonly currency: string;
  readonly normalSide: NormalSide;
  readonly shardCount: number;
  /**
   * The lowest balance the database lets the account reach (post_journal refuses the posting otherwise);
   * absent for unbounded accounts. Only single-shard accounts can be bounded.
   */
  readonly minBalanceMinor?: bigint;
}

/** What the channel owes Tongbao for payments it collected (an asset, debit-normal). Touched by every payment. */
export function channelClearing(channel: string, currency: string): AccountSpec {
  return { code: `channel:${channel}:clearing:${currency}`, kind: 'CHANNEL_CLEARING', ownerType: 'CHANNEL', ownerId: channel, currency, normalSide: 'DEBIT', shardCount: 16 };
}

/** What Tongbao owes a merchant for paid trades not yet settled (a liability, credit-normal). */
export function merchantPending(merchantId: string, currency: string): AccountSpec {
  return { code: `merchant:${merchantId}:pending:${currency}`, kind: 'MERCHANT_PENDING', ownerType: 'MERCHANT', ownerId: merchantId, currency, normalSide: 'CREDIT', shardCount: 8 };
}

/** Money received that belongs to nobody yet, such as a late payment on a closed order, until it is returned. */
export function platformSuspense(currency: string): AccountSpec {
  return { code: `platform:suspense:${currency}`, kind: 'PLATFORM_SUSPENSE', ownerType: 'PLATFORM', ownerId: 'platform', currency, normalSide: 'CREDIT', shardCount: 4 };
}

/**
 * The platform's escrow transit account (担保账户): escrow payments wait here until they are settled to the
 * merchant or refunded to the buyer (a liability, credit-normal). Every escrow payment and settlement
 * touches it, so it is sharded like the clearing accounts.
 */
export function platformEscrow(currency: string): AccountSpec {
  return { code: `platform:escrow:${currency}`, kind: 'PLATFORM_ESCROW', ownerType: 'PLATFORM', ownerId: 'platform', currency, normalSide: 'CREDIT', shardCount: 16 };
}

/** The platform's own income, such as its profit-sharing splits (credit-normal). Shared by every split, so sharded. */
export function platformFeeIncome(currency: string): AccountSpec {
  return { code: `platform:fee-income:${currency}`, kind: 'PLATFORM_FEE_INCOME', ownerType: 'PLATFORM', ownerId: 'platform', currency, normalSide: 'CREDIT', shardCount: 8 };
}

/**
 * Money a channel holds on payers' means of payment for pre-authorizations (a memo account, debit-normal).
 * It pairs with merchantPreauthHeld: together they show what is held without ever entering the merchant's
 * pending balance, which is what the merchant is owed.
 */
export function channelPreauthHeld(channel: string, currency: string): AccountSpec {
  return { code: `channel:${channel}:preauth_held:${currency}`, kind: 'CHANNEL_PREAUTH_HELD', ownerType: 'CHANNEL', ownerId: channel, currency, normalSide: 'DEBIT', shardCount: 8 };
}

/** Money held for a merchant's pre-authorizations, not yet captured (the memo counterpart, credit-normal). */
export function merchantPreauthHeld(merchantId: string, currency: string): AccountSpec {
  return { code: `merchant:${merchantId}:preauth_held:${currency}`, kind: 'MERCHANT_PREAUTH_HELD', ownerType: 'MERCHANT', ownerId: merchantId, currency, normalSide: 'CREDIT', shardCount: 4 };
}

/**
 * A user account's spendable money (a liability to the user, credit-normal), bounded at zero. The ledger
 * currency of a coin account is its coin code (coinCurrency). `type` is WALLET, COIN or CREDIT; a CREDIT
 * account's available balance is what remains of its credit limit. Single-shard: every debit locks the row
 * and checks it, so user balances never race.
 */
export function userAvailable(userId: string, type: string, currency: string): AccountSpec {
  return { code: `user:${userId}:${type.toLowerCase()}:${currency}:available`, kind: `USER_${type}`, ownerType: 'USER', ownerId: userId, currency, normalSide: 'CREDIT', shardCount: 1, minBalanceMinor: 0n };
}

/** The frozen part of a user account (disputed sums, withdrawals at the channel), bounded at zero. */
export function userFrozen(userId: string, type: string, currency: string): AccountSpec {
  return { code: `user:${userId}:${type.toLowerCase()}:${currency}:frozen`, kind: `USER_${type}_FROZEN`, ownerType: 'USER', ownerId: userId, currency, normalSide: 'CREDIT', shardCount: 1, minBalanceMinor: 0n };
}

/**
 * The credit line granted to a user (debit-normal): its balance is the limit. Raising the limit debits it
 * and credits the credit account's available balance; what the user owes is line - available - frozen.
 */
export function userCreditLine(userId: string, currency: string): AccountSpec {
  return { code: `user:${userId}:credit:${currency}:line`, kind: 'USER_CREDIT_LINE', ownerType: 'USER', ownerId: userId, currency, normalSide: 'DEBIT', shardCount: 1, minBalanceMinor: 0n };
}

/** The ledger currency of an app's virtual coin: coins are whole units, never mixed with money. */
export function coinCurrency(appId: string, unit: string): string {
  return `C:${appId}:${unit}`;
}

/** True for a coin ledger currency (coinCurrency), false for an ISO 4217 code. */
export function isCoinCurrency(currency: string): boolean {
  return currency.startsWith('C:');
}

/** Coins an app has issued and not taken back (debit-normal, in the coin currency): the counterpart of users' coin balances. */
export function appCoinIssued(appId: string, unit: string): AccountSpec {
  const currency = coinCurrency(appId, unit);
  return { code: `app:${appId}:coin:${unit}:issued`, kind: 'APP_COIN_ISSUED', ownerType: 'APP', ownerId: appId, currency, normalSide: 'DEBIT', shardCount: 8 };
}

/** The money users paid for an app's coins (a liability, credit-normal): it backs the coins until they are spent. */
export function appCoinReserve(appId: string, currency: string): AccountSpec {
  return { code: `app:${appId}:coin-reserve:${currency}`, kind: 'APP_COIN_RESERVE', ownerType: 'APP', ownerId: appId, currency, normalSide: 'CREDIT', shardCount: 8 };
}

/** A merchant's money on its way out to its bank by a withdrawal (held, credit-normal, bounded at zero). */
export function merchantWithdrawing(merchantId: string, currency: string): AccountSpec {
  return { code: `merchant:${merchantId}:withdrawing:${currency}`, kind: 'MERCHANT_WITHDRAWING', ownerType: 'MERCHANT', ownerId: merchantId, currency, normalSide: 'CREDIT', shardCount: 1, minBalanceMinor: 0n };
}
