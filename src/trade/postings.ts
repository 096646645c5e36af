import { channelClearing, merchantPending, platformEscrow, type Entry } from '../ledger/index.js';
import type { RefundRow, TradeRow } from './repository.js';
import { receiverAccount, royaltyTotal, type RoyaltySplit } from './royalty.js';

/**
 * The entries of the trade domain's journal transactions, as pure functions of the records. Each builds one
 * balanced transaction: money comes in on one side and is shared out on the other, so a split can never be
 * paid from money that did not arrive in the same transaction (先入后出).
 */

/** Credits the splits and gives the merchant what they leave; a zero remainder is no entry at all. */
function shareOut(trade: TradeRow, amountMinor: bigint, splits: readonly RoyaltySplit[]): Entry[] {
  const rest = amountMinor - royaltyTotal(splits);
  if (rest < 0n) throw new Error(`splits of trade ${trade.trade_no} exceed ${amountMinor}`);
  return [
    ...splits.map((split) => ({ account: receiverAccount(split.receiver, trade.currency), side: 'CREDIT' as const, amountMinor: split.amountMinor })),
    ...(rest > 0n ? [{ account: merchantPending(trade.merchant_id, trade.currency), side: 'CREDIT' as const, amountMinor: rest }] : []),
  ];
}

/**
 * A payment: the channel owes the amount; the escrow account holds the escrowed part, and the rest goes to
 * the merchant, less the payment's profit-sharing splits (instant trades).
 */
export function paymentEntries(trade: TradeRow, channel: string, amountMinor: bigint, splits: readonly RoyaltySplit[]): Entry[] {
  const escrow = trade.escrow_amount_minor;
  return [
    { account: channelClearing(channel, trade.currency), side: 'DEBIT', amountMinor },
    ...(escrow > 0n ? [{ account: platformEscrow(trade.currency), side: 'CREDIT' as const, amountMinor: escrow }] : []),
    ...shareOut(trade, amountMinor - escrow, splits),
  ];
}

/** A settlement: escrow pays the merchant, less the settlement's splits. */
export function settlementEntries(trade: TradeRow, amountMinor: bigint, splits: readonly RoyaltySplit[]): Entry[] {
  return [
    { account: platformEscrow(trade.currency), side: 'DEBIT', amountMinor },
    ...shareOut(trade, amountMinor, splits),
  ];
}

/**
 * A merchant refund: its escrow part comes back out of escrow, the rest out of the trade's own merchant
 * account, even when the payment or a settlement was split (receivers keep their shares).
 */
export function refundEntries(trade: TradeRow, refund: RefundRow): Entry[] {
  const fromMerchant = refund.amount_minor - refund.from_escrow_minor;
  return [
    ...(refund.from_escrow_minor > 0n ? [{ account: platformEscrow(refund.currency), side: 'DEBIT' as const, amountMinor: refund.from_escrow_minor }] : []),
    ...(fromMerchant > 0n ? [{ account: merchantPending(trade.merchant_id, refund.currency), side: 'DEBIT' as const, amountMinor: fromMerchant }] : []),
    { account: channelClearing(refund.channel, refund.currency), side: 'CREDIT', amountMinor: refund.amount_minor },
  ];
}
