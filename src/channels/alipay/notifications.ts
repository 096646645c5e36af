/**
 * Alipay's asynchronous notifications (异步通知): form-encoded posts to the notify_url, signed RSA2 over the
 * sorted parameters. Two kinds reach Tongbao:
 * - trade_status_sync (notify_type) for payments, and for refunds when out_biz_no and gmt_refund are present;
 * - alipay.fund.trans.order.changed (msg_method) for transfers, with the order in biz_content.
 * This file holds the pure parts: parsing the body, the freshness rule and the mapping to channel notifications.
 * The signature check is alipay-sdk's (adapter.ts); replays are refused by Tongbao's callback route.
 */
import type { ChannelNotification } from '../types.js';
import { checkTransferOrder, transferOrderResult } from './payout-protocol.js';
import { checkers, parseBeijingTime, tradeResult } from './protocol.js';

/** Notifications older than this are refused; Tongbao remembers a notify_id for as long, so a copy is refused too. */
export const notificationWindowMs = 5 * 60 * 1000;
/** notify_time has whole seconds and the two clocks are never quite equal, so "the future" starts a minute ahead. */
export const allowedClockSkewMs = 60 * 1000;
export const transferChangedMethod = 'alipay.fund.trans.order.changed';

/** Form fields of the body, decoded once; null when a field repeats (a signed body never repeats one). */
export function parseFormBody(rawBody: string): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawBody)) {
    if (Object.hasOwn(params, key)) return null;
    params[key] = value;
  }
  return params;
}

/** When Alipay sent it: notify_time (Beijing wall clock) for trade notifications, utc_timestamp (ms) for messages. */
export function sentAt(params: Readonly<Record<string, string>>): Date | null {
  if (params.notify_time !== undefined) return parseBeijingTime(params.notify_time);
  if (params.utc_timestamp !== undefined && /^[0-9]{10,16}$/.test(params.utc_timestamp)) return new Date(Number(params.utc_timestamp));
  return null;
}

export function freshnessProblem(sent: Date, nowMs: number): string | null {
  const ageMs = nowMs - sent.getTime();
  if (ageMs > notificationWindowMs) return 'stale notify_time';
  if (ageMs < -allowedClockSkewMs) return 'notify_time in the future';
  return null;
}

export type NotificationParsing = { readonly ok: true; readonly notification: ChannelNotification } | { readonly ok: false; readonly reason: string };

/** Parses a verified notification into what it is about; anything unfamiliar is refused, never guessed. */
export function notificationFromParams(params: Readonly<Record<string, string>>): NotificationParsing {
  if (params.msg_method === transferChangedMethod) return transferNotification(params.biz_content);
  if (params.notify_type !== 'trade_status_sync') return { ok: false, reason: `unsupported notification type "${(params.notify_type ?? params.msg_method ?? '').slice(0, 40)}"` };
  const trade = {
    out_trade_no: params.out_trade_no,
    trade_no: params.trade_no,
    trade_status: params.trade_status,
    total_amount: params.total_amount,
    gmt_payment: params.gmt_payment,
  };
  if (!checkers.trade.Check(trade)) return { ok: false, reason: 'the notification lacks out_trade_no, trade_status or total_amount' };
  // A refund reaches a paid trade's notify_url as trade_status_sync with the refund's out_request_no in
  // out_biz_no. It carries the trade's refunded total, not this refund's amount, so it only says "query me".
  if (params.out_biz_no && params.gmt_refund) {
    return {
      ok: true,
      notification: { kind: 'REFUND', refundNo: params.out_biz_no, result: trade.trade_no ? { status: 'PENDING', channelRefundNo: trade.trade_no } : { status: 'PENDING' } },
    };
  }
  return { ok: true, notification: { kind: 'PAYMENT', attemptNo: trade.out_trade_no, result: tradeResult(trade, trade.out_trade_no, trade.gmt_payment) } };
}

function transferNotification(bizContent: string | undefined): NotificationParsing {
  let order: unknown;
  try {
    order = JSON.parse(bizContent ?? '');
  } catch {
    return { ok: false, reason: 'the transfer notification has no readable biz_content' };
  }
  if (!checkTransferOrder.Check(order)) return { ok: false, reason: 'the transfer notification lacks out_biz_no or status' };
  return { ok: true, notification: { kind: 'OPERATION', operationNo: order.out_biz_no, result: transferOrderResult(order, order.out_biz_no) } };
}
