/**
 * What the WeChat channel tests share: a stand-in for Tongbao's callback route (it verifies each callback
 * with the adapter and answers with adapter.acknowledge), request builders with unique numbers, and a
 * polling wait.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelPayRequest, ChannelRefundRequest } from '../../../src/channels/types.js';

export { CallbackReceiver, type ReceivedCallback } from '../../helpers/callback-receiver.js';

let counter = 0;

/** A number WeChat accepts as out_trade_no / out_refund_no, unique within the run. */
export function uniqueNo(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now()}${String(counter).padStart(4, '0')}${randomBytes(2).toString('hex')}`;
}

export function payRequestFor(notifyBase: string, amountMinor: bigint, overrides: Partial<ChannelPayRequest> = {}): ChannelPayRequest {
  const attemptNo = overrides.attemptNo ?? uniqueNo('A');
  return {
    attemptNo,
    tradeNo: `T${attemptNo}`,
    amountMinor,
    currency: 'CNY',
    subject: '通宝测试商品',
    expiresAt: new Date(Date.now() + 15 * 60 * 1000),
    notifyUrl: `${notifyBase}/channels/wechat/notify`,
    ...overrides,
  };
}

/** A refund of `payment` (the attempt and what it took, which WeChat wants as the order total). */
export function refundRequestFor(notifyBase: string, payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, overrides: Partial<ChannelRefundRequest> = {}): ChannelRefundRequest {
  return {
    refundNo: uniqueNo('R'),
    attemptNo: payment.attemptNo,
    channelTradeNo: null,
    paymentAmountMinor: payment.amountMinor,
    amountMinor,
    currency: 'CNY',
    reason: '顾客退货',
    notifyUrl: `${notifyBase}/channels/wechat/notify`,
    ...overrides,
  };
}

export { waitFor } from '../../helpers/wait.js';
