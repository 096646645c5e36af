/**
 * The chart of accounts Tongbao posts to, as data. Codes are stable strings so postings name
 * accounts without lookups; `shardCount` > 1 marks hot accounts whose balance is split across rows.
 */
export type NormalSide = 'DEBIT' | 'CREDIT';
export type OwnerType = 'PLATFORM' | 'MERCHANT' | 'CHANNEL' | 'USER';

export interface AccountSpec {
  readonly code: string;
  readonly kind: string;
  readonly ownerType: OwnerType;
  readonly ownerId: string;
  readonly currency: string;
  readonly normalSide: NormalSide;
  readonly shardCount: number;
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
