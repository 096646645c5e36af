/**
 * What the trade domain tells a channel when it refunds or asks about an attempt or a refund, built from its own
 * rows, so that adapters never read Tongbao's tables: the numbers the channel knows the money by, the channel's
 * own number once Tongbao learned it, and the amounts (WeChat Pay, for one, names the order total with a refund).
 */
import type { ChannelQueryRequest, ChannelRefundQueryRequest, ChannelRefundRequest } from '../channels/types.js';
import type { Queryable } from '../db/pool.js';
import * as repository from './repository.js';
import type { AttemptRow, RefundRow } from './repository.js';

export function attemptQuery(attempt: AttemptRow): ChannelQueryRequest {
  return { attemptNo: attempt.attempt_no, channelTradeNo: attempt.channel_trade_no, amountMinor: attempt.amount_minor, currency: attempt.currency };
}

/** The attempt a refund gives money back from; every refund names one (a foreign key). */
export async function refundedAttempt(client: Queryable, refund: RefundRow): Promise<AttemptRow> {
  const attempt = await repository.findAttempt(client, refund.attempt_no);
  if (!attempt) throw new Error(`refund ${refund.refund_no} names attempt ${refund.attempt_no}, which does not exist`);
  return attempt;
}

export function refundQuery(refund: RefundRow, payment: AttemptRow): ChannelRefundQueryRequest {
  return {
    refundNo: refund.refund_no, attemptNo: payment.attempt_no, channelTradeNo: payment.channel_trade_no, paymentAmountMinor: payment.amount_minor,
    amountMinor: refund.amount_minor, currency: refund.currency,
  };
}

export function refundRequest(refund: RefundRow, payment: AttemptRow, notifyUrl: string): ChannelRefundRequest {
  return {
    refundNo: refund.refund_no, attemptNo: payment.attempt_no, channelTradeNo: payment.channel_trade_no, paymentAmountMinor: payment.amount_minor,
    amountMinor: refund.amount_minor, currency: refund.currency, reason: refund.reason, notifyUrl,
  };
}
