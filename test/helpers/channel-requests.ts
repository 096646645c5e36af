/**
 * The context Tongbao passes with a query or a refund query, built from the requests an adapter test sent, so
 * the tests ask exactly as Tongbao's trade domain asks (src/trade/channel-requests.ts).
 */
import type { ChannelPayRequest, ChannelQueryRequest, ChannelRefundQueryRequest, ChannelRefundRequest } from '../../src/channels/types.js';

/** Asks about a payment the test sent; `channelTradeNo` when the test learned the channel's number. */
export function queryOf(pay: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor' | 'currency'>, channelTradeNo: string | null = null): ChannelQueryRequest {
  return { attemptNo: pay.attemptNo, channelTradeNo, amountMinor: pay.amountMinor, currency: pay.currency };
}

/** Asks about a refund the test sent. */
export function refundQueryOf(refund: ChannelRefundRequest): ChannelRefundQueryRequest {
  return {
    refundNo: refund.refundNo, attemptNo: refund.attemptNo, channelTradeNo: refund.channelTradeNo, paymentAmountMinor: refund.paymentAmountMinor,
    amountMinor: refund.amountMinor, currency: refund.currency,
  };
}
