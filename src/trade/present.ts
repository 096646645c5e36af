import { formatAmount } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import type { RefundRow, TradeRow } from './repository.js';

/** Renders dates and amounts the way the gateway protocol writes them. */
export interface Presenter {
  time(date: Date | null): string | undefined;
  amount(amountMinor: bigint, currency: string): string;
}

export function createPresenter(zone: string): Presenter {
  return {
    time: (date) => (date ? formatWallClock(date, zone) : undefined),
    amount: formatAmount,
  };
}

/** The trade as the gateway answers and notifies it. */
export function tradeFields(present: Presenter, trade: TradeRow): Record<string, string | undefined> {
  return {
    trade_no: trade.trade_no,
    out_trade_no: trade.out_trade_no,
    trade_status: trade.status,
    total_amount: present.amount(trade.total_amount_minor, trade.currency),
    currency: trade.currency,
    receipt_amount: present.amount(trade.paid_amount_minor, trade.currency),
    refund_fee: present.amount(trade.refunded_amount_minor, trade.currency),
    subject: trade.subject,
    body: trade.body ?? undefined,
    channel: trade.channel ?? undefined,
    channel_trade_no: trade.channel_trade_no ?? undefined,
    passback_params: trade.passback_params ?? undefined,
    gmt_create: present.time(trade.created_at),
    gmt_payment: present.time(trade.paid_at),
    gmt_close: present.time(trade.closed_at),
    time_expire: present.time(trade.expires_at),
  };
}

export function refundFields(present: Presenter, refund: RefundRow, trade: TradeRow): Record<string, string | undefined> {
  return {
    trade_no: trade.trade_no,
    out_trade_no: trade.out_trade_no,
    out_request_no: refund.out_request_no,
    refund_no: refund.refund_no,
    refund_status: refund.status,
    refund_amount: present.amount(refund.amount_minor, refund.currency),
    refund_reason: refund.reason ?? undefined,
    total_amount: present.amount(trade.total_amount_minor, trade.currency),
    refund_fee: present.amount(trade.refunded_amount_minor, trade.currency),
    currency: refund.currency,
    trade_status: trade.status,
    gmt_refund: present.time(refund.succeeded_at),
    failure_code: refund.failure_code ?? undefined,
    failure_reason: refund.failure_message ?? undefined,
  };
}

/** Drops undefined fields so responses and notifications carry only what is known. */
export function compact(fields: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}
