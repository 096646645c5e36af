/**
 * The sandbox bank's magic amounts, like Stripe's test cards: the amount in minor units (any currency) decides
 * how the bank behaves, so every path of the payment pipeline can be exercised on purpose. Declared as data so
 * the simulator, the tests and docs/sandbox.md all read the same table.
 */
import type { PreauthKind } from './preauth-protocol.js';

export type PaymentScenario =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'decline'; readonly code: string; readonly message: string }
  /** HTTP 500 and nothing recorded. */
  | { readonly kind: 'server-error' }
  /** Record the payment, then never answer. */
  | { readonly kind: 'hang'; readonly charged: boolean }
  /** Answer PROCESSING; the outcome arrives after the callback delay, by callback or only by query. */
  | { readonly kind: 'delayed'; readonly outcome: 'SUCCEEDED' | 'FAILED'; readonly callback: boolean };

export type RefundScenario =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'decline'; readonly code: string; readonly message: string }
  | { readonly kind: 'delayed'; readonly outcome: 'SUCCEEDED'; readonly callback: true };

export interface MagicAmount<Scenario> {
  readonly amountMinor: bigint;
  readonly scenario: Scenario;
  readonly description: string;
}

export const paymentMagicAmounts: readonly MagicAmount<PaymentScenario>[] = [
  { amountMinor: 4004n, scenario: { kind: 'decline', code: 'CARD_DECLINED', message: 'the card was declined' }, description: 'FAILED CARD_DECLINED' },
  { amountMinor: 4005n, scenario: { kind: 'decline', code: 'INSUFFICIENT_FUNDS', message: 'the payer has insufficient funds' }, description: 'FAILED INSUFFICIENT_FUNDS' },
  { amountMinor: 5003n, scenario: { kind: 'server-error' }, description: 'HTTP 500, nothing recorded (query: NOT_FOUND)' },
  { amountMinor: 5004n, scenario: { kind: 'hang', charged: false }, description: 'never answers, nothing charged (query: FAILED TIMEOUT)' },
  { amountMinor: 5005n, scenario: { kind: 'hang', charged: true }, description: 'never answers, but charged (query: SUCCEEDED, the late success)' },
  { amountMinor: 6001n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: true }, description: 'PROCESSING, then a SUCCEEDED callback' },
  { amountMinor: 6002n, scenario: { kind: 'delayed', outcome: 'FAILED', callback: true }, description: 'PROCESSING, then a FAILED callback (AUTHENTICATION_FAILED)' },
  { amountMinor: 6003n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: false }, description: 'PROCESSING, no callback; queries answer SUCCEEDED after the delay' },
];

export const refundMagicAmounts: readonly MagicAmount<RefundScenario>[] = [
  { amountMinor: 4004n, scenario: { kind: 'decline', code: 'REFUND_DECLINED', message: 'the bank declined the refund' }, description: 'FAILED REFUND_DECLINED' },
  { amountMinor: 6001n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: true }, description: 'PROCESSING, then a SUCCEEDED callback' },
];

/**
 * Pre-authorization operations behave like payments, chosen by the operation's kind and amount. Freeze and
 * complete use the payment amounts. Unfreeze and complete-cancel always carry the full amount held or
 * captured, so they get amounts of their own (70xx) that a freeze and a complete pass through untouched:
 * freeze 70.05 succeeds, and its unfreeze then hangs.
 */
export const preauthMagicAmounts: readonly (MagicAmount<PaymentScenario> & { readonly kinds: readonly PreauthKind[] })[] = [
  ...paymentMagicAmounts.map((magic) => ({ ...magic, kinds: ['FREEZE', 'COMPLETE'] as const })),
  { kinds: ['UNFREEZE', 'COMPLETE_CANCEL'], amountMinor: 7004n, scenario: { kind: 'decline', code: 'OPERATION_DECLINED', message: 'the bank declined the operation' }, description: 'FAILED OPERATION_DECLINED' },
  { kinds: ['UNFREEZE', 'COMPLETE_CANCEL'], amountMinor: 7005n, scenario: { kind: 'hang', charged: true }, description: 'never answers, but done (query: SUCCEEDED)' },
  { kinds: ['UNFREEZE', 'COMPLETE_CANCEL'], amountMinor: 7001n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: true }, description: 'PROCESSING, then a SUCCEEDED callback' },
  { kinds: ['UNFREEZE', 'COMPLETE_CANCEL'], amountMinor: 7003n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: false }, description: 'PROCESSING, no callback; queries answer SUCCEEDED after the delay' },
];

/**
 * Payouts (代付/出款) behave like payments, chosen by the amount; they settle by answer or query only, never by
 * callback, so the delayed ones are query-only.
 */
export const payoutMagicAmounts: readonly MagicAmount<PaymentScenario>[] = [
  { amountMinor: 4004n, scenario: { kind: 'decline', code: 'PAYEE_ACCOUNT_INVALID', message: "the payee's account does not exist or cannot receive" }, description: 'FAILED PAYEE_ACCOUNT_INVALID' },
  { amountMinor: 5003n, scenario: { kind: 'server-error' }, description: 'HTTP 500, nothing recorded (query: NOT_FOUND)' },
  { amountMinor: 5004n, scenario: { kind: 'hang', charged: false }, description: 'never answers, nothing paid (query: FAILED TIMEOUT)' },
  { amountMinor: 5005n, scenario: { kind: 'hang', charged: true }, description: 'never answers, but paid (query: SUCCEEDED)' },
  { amountMinor: 6002n, scenario: { kind: 'delayed', outcome: 'FAILED', callback: false }, description: "PROCESSING; queries answer FAILED PAYEE_BANK_REJECTED after the delay" },
  { amountMinor: 6003n, scenario: { kind: 'delayed', outcome: 'SUCCEEDED', callback: false }, description: 'PROCESSING; queries answer SUCCEEDED after the delay' },
];

export function payoutScenario(amountMinor: bigint): PaymentScenario {
  return payoutMagicAmounts.find((magic) => magic.amountMinor === amountMinor)?.scenario ?? { kind: 'succeed' };
}

/** Why a delayed payment fails (amount 6002). */
export const delayedFailure = { code: 'AUTHENTICATION_FAILED', message: 'the payer did not complete authentication' } as const;

export function paymentScenario(amountMinor: bigint): PaymentScenario {
  return paymentMagicAmounts.find((magic) => magic.amountMinor === amountMinor)?.scenario ?? { kind: 'succeed' };
}

export function refundScenario(amountMinor: bigint): RefundScenario {
  return refundMagicAmounts.find((magic) => magic.amountMinor === amountMinor)?.scenario ?? { kind: 'succeed' };
}

export function preauthScenario(kind: PreauthKind, amountMinor: bigint): PaymentScenario {
  return preauthMagicAmounts.find((magic) => magic.amountMinor === amountMinor && magic.kinds.includes(kind))?.scenario ?? { kind: 'succeed' };
}
