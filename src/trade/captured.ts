/**
 * Trades paid by capturing a pre-authorization hold (预授权完成). The preauth domain owns the hold; a successful
 * completion becomes an ordinary paid trade here, so the captured money is refunded through tongbao.trade.refund
 * like any payment. The completion's operation number is the trade's attempt number, because that is the number
 * the channel knows the captured payment by (see ChannelPreauth.complete).
 *
 * Every function runs inside the caller's transaction and posts nothing to the ledger: the caller books the
 * capture and the release of the hold as one journal transaction. They send no trade_status_sync either: the
 * caller's preauth_status_sync names the trade. Refunds of the trade later notify refund_status_sync as usual.
 */
import type { Client } from '../db/pool.js';
import { recordEvents } from '../events/index.js';
import * as repository from './repository.js';
import type { TradeRow } from './repository.js';

export interface CapturedPayment {
  readonly appId: string;
  readonly merchantId: string;
  readonly outTradeNo: string;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly subject: string;
  readonly notifyUrl: string | null;
  readonly channel: string;
  /** The completion's operation number: the channel refunds the capture by it. */
  readonly attemptNo: string;
  readonly channelTradeNo: string;
  readonly paidAt: Date;
  /** The refund window for merchants without their own (TONGBAO_REFUND_WINDOW_DAYS). */
  readonly defaultRefundWindowDays: number;
}

/** Writes the trade of a capture, already paid (TRADE_SUCCESS), with its one succeeded attempt. */
export async function insertCapturedTrade(client: Client, payment: CapturedPayment): Promise<TradeRow> {
  const trade = await repository.insertTrade(client, {
    appId: payment.appId, merchantId: payment.merchantId, outTradeNo: payment.outTradeNo, currency: payment.currency,
    totalAmountMinor: payment.amountMinor, subject: payment.subject, body: null, notifyUrl: payment.notifyUrl, passbackParams: null,
    // A capture is an instant payment to the merchant: nothing escrowed, nothing shared.
    tradeType: 'INSTANT', escrowAmountMinor: 0n, royaltyAmountMinor: 0n,
    // Never waiting for payment, so never expiring: the deadline is the payment itself.
    expiresAt: payment.paidAt,
  });
  if (!trade) throw new Error(`a trade with out_trade_no ${payment.outTradeNo} already exists; a capture is recorded once`);
  const attempt = await repository.insertSucceededAttempt(client, {
    attemptNo: payment.attemptNo, tradeNo: trade.trade_no, channel: payment.channel, amountMinor: payment.amountMinor,
    currency: payment.currency, channelTradeNo: payment.channelTradeNo,
  });
  const paid = await repository.markTradePaid(client, attempt, payment.channelTradeNo, payment.paidAt, payment.defaultRefundWindowDays);
  if (!paid) throw new Error(`trade ${trade.trade_no} was written waiting and must take its payment`);
  await recordEvents(client, [
    { aggregateType: 'trade', aggregateId: trade.trade_no, eventType: 'trade.created', payload: { out_trade_no: payment.outTradeNo, amount_minor: payment.amountMinor, currency: payment.currency, source: 'PREAUTH_COMPLETE' } },
    { aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.succeeded', payload: { trade_no: trade.trade_no, channel_trade_no: payment.channelTradeNo } },
    { aggregateType: 'trade', aggregateId: trade.trade_no, eventType: 'trade.paid', payload: { attempt_no: attempt.attempt_no, channel: payment.channel, amount_minor: payment.amountMinor } },
  ]);
  return paid;
}

/**
 * Reserves the whole of a captured trade for its reversal, so that no refund can start while the channel
 * cancels the completion. Locks the trade row (the trade first, as everywhere). Returns undefined when the trade
 * is no longer whole: refunded in part or in full, or a refund is in flight.
 */
export async function reserveCapturedTradeReversal(client: Client, tradeNo: string, amountMinor: bigint): Promise<TradeRow | undefined> {
  const trade = await repository.findTradeByNo(client, tradeNo, true);
  if (!trade || trade.status !== 'TRADE_SUCCESS' || trade.refund_reserved_minor !== 0n || trade.paid_amount_minor !== amountMinor) return undefined;
  return repository.reserveRefund(client, tradeNo, amountMinor, 0n);
}

/**
 * Locks a captured trade's row, for a transaction that changes it together with its hold: the trade row
 * first, then the hold, so such transactions queue on the trade like refunds do and never deadlock.
 */
export async function lockCapturedTrade(client: Client, tradeNo: string): Promise<TradeRow> {
  const trade = await repository.findTradeByNo(client, tradeNo, true);
  if (!trade) throw new Error(`captured trade ${tradeNo} does not exist`);
  return trade;
}

/** The channel refused the reversal: the trade is refundable again. Call with the trade row locked. */
export async function releaseCapturedTradeReversal(client: Client, tradeNo: string, amountMinor: bigint): Promise<void> {
  await repository.releaseReservation(client, tradeNo, amountMinor, 0n);
}

/** The channel reversed the capture: the trade is closed with its whole amount returned. Call with the trade row locked. */
export async function closeReversedCapturedTrade(client: Client, tradeNo: string, amountMinor: bigint): Promise<TradeRow> {
  const closed = await repository.closeReversedTrade(client, tradeNo, amountMinor, 'PREAUTH_COMPLETE_CANCEL');
  if (!closed) throw new Error(`trade ${tradeNo} was not held whole for its reversal`);
  await recordEvents(client, [{ aggregateType: 'trade', aggregateId: tradeNo, eventType: 'trade.closed', payload: { reason: 'PREAUTH_COMPLETE_CANCEL' } }]);
  return closed;
}
