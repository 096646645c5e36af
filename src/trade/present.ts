import { formatAmount } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import type { SettlementRow } from './escrow-repository.js';
import { escrowUnsettledMinor } from './escrow.js';
import type { RefundRow, TradeRow } from './repository.js';
import { presentRoyalty, type RoyaltySplit } from './royalty.js';

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

/** What an escrow trade holds and has settled; nothing for an instant trade. */
function escrowFields(present: Presenter, trade: TradeRow): Record<string, string | undefined> {
  if (trade.trade_type !== 'ESCROW') return {};
  return {
    escrow_amount: present.amount(trade.escrow_amount_minor, trade.currency),
    settled_amount: present.amount(trade.settled_amount_minor, trade.currency),
    unsettled_amount: present.amount(escrowUnsettledMinor(trade), trade.currency),
    gmt_auto_settle: present.time(trade.escrow_settle_by),
    gmt_confirm: present.time(trade.buyer_confirmed_at),
  };
}

/** The trade as the gateway answers and notifies it. */
export function tradeFields(present: Presenter, trade: TradeRow): Record<string, string | undefined> {
  return {
    trade_no: trade.trade_no,
    out_trade_no: trade.out_trade_no,
    trade_status: trade.status,
    trade_type: trade.trade_type,
    total_amount: present.amount(trade.total_amount_minor, trade.currency),
    currency: trade.currency,
    ...escrowFields(present, trade),
    royalty_amount: trade.royalty_amount_minor > 0n ? present.amount(trade.royalty_amount_minor, trade.currency) : undefined,
    receipt_amount: present.amount(trade.paid_amount_minor, trade.currency),
    refund_fee: present.amount(trade.refunded_amount_minor, trade.currency),
    subject: trade.subject,
    body: trade.body ?? undefined,
    channel: trade.channel ?? undefined,
    channel_trade_no: trade.channel_trade_no ?? undefined,
    passback_params: trade.passback_params ?? undefined,
    purpose: trade.purpose === 'RECHARGE' ? 'RECHARGE' : undefined,
    recharge_account_no: trade.recharge_account_no ?? undefined,
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

/** A settlement as the gateway answers and notifies it, with the trade's escrow totals after it. */
export function settlementFields(present: Presenter, settlement: SettlementRow, splits: readonly RoyaltySplit[], trade: TradeRow): Record<string, string | undefined> {
  return {
    trade_no: trade.trade_no,
    out_trade_no: trade.out_trade_no,
    // Tongbao's own settlements (CONFIRM, AUTO) carry an internal request number the merchant never sent.
    out_request_no: settlement.source === 'MERCHANT' ? settlement.out_request_no : undefined,
    settle_no: settlement.settle_no,
    settle_type: settlement.source,
    settle_status: settlement.status,
    settle_amount: present.amount(settlement.amount_minor, settlement.currency),
    currency: settlement.currency,
    royalty_parameters: presentRoyalty(splits, settlement.currency),
    gmt_settle: present.time(settlement.settled_at),
    trade_status: trade.status,
    ...escrowFields(present, trade),
  };
}

/** Drops undefined fields so responses and notifications carry only what is known. */
export function compact(fields: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}
