import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { formatWallClock, nextCutoff } from '../shared/time.js';
import { attemptQuery } from './channel-requests.js';
import { closeTrade } from './close.js';
import { refundEscrowPart } from './escrow.js';
import { recordPayOutcome } from './outcomes.js';
import { finishLocalRefund } from './local.js';
import { sendRefund } from './refund.js';
import * as repository from './repository.js';
import type { RefundRow, TradeRow } from './repository.js';

/** The cancel of a paid trade is its one refund under this number ('=' never appears in a merchant's). */
const cancelRequestNo = 'cancel=';

export type CancelOutcome =
  /** The trade was unpaid and is now closed. */
  | { action: 'close'; trade: TradeRow }
  /** The trade was paid; the full amount goes back through the reversal, which may still be processing. */
  | { action: 'refund'; trade: TradeRow; refund: RefundRow };

/** The end of the window in which a paid trade may be cancelled: the first cut-off after its payment. */
export function cancelDeadline(context: Context, trade: TradeRow): Date {
  return nextCutoff(trade.paid_at!, context.config.TONGBAO_CANCEL_CUTOFF, context.config.TONGBAO_TIMEZONE);
}

/**
 * tongbao.trade.cancel (撤销): the full reversal of a trade, as if it never happened.
 * - Unpaid: closed (an attempt at the channel is asked first; if it turns out paid, the payment is reversed).
 * - Paid before the current business day's cut-off, never refunded and (escrow) never settled: the whole
 *   amount is returned, the escrowed part out of escrow.
 * - After the cut-off, or once any refund or settlement was made: refused; the caller refunds instead.
 * Repeating a cancel answers as the first one did.
 */
export async function cancelTrade(context: Context, trade: TradeRow): Promise<CancelOutcome> {
  const earlier = await repository.findRefund(context.pool, trade.trade_no, cancelRequestNo);
  if (earlier) return { action: 'refund', trade: (await repository.findTradeByNo(context.pool, trade.trade_no))!, refund: earlier };
  if (trade.purpose === 'RECHARGE' && trade.status !== 'WAIT_BUYER_PAY') fail(errors.cancelNotAllowed, `trade ${trade.trade_no} is a recharge; a paid recharge stays in the account`);
  if (trade.status === 'TRADE_CLOSED') {
    if (trade.paid_at !== null) fail(errors.cancelNotAllowed, `trade ${trade.trade_no} was refunded in full and is closed`);
    return { action: 'close', trade };
  }
  if (trade.status === 'WAIT_BUYER_PAY') {
    const settled = await settleInFlightAttempt(context, trade);
    if (settled.status === 'WAIT_BUYER_PAY') return closeUnpaid(context, settled);
    trade = settled;
  }
  return reversePaid(context, trade);
}

/** An attempt whose result is unknown is asked about first: a cancel must not close what was paid. */
async function settleInFlightAttempt(context: Context, trade: TradeRow): Promise<TradeRow> {
  const inFlight = await repository.findInFlightAttempt(context.pool, trade.trade_no);
  if (!inFlight) return trade;
  const channel = context.channels.get(inFlight.channel);
  if (!channel) fail(errors.systemError, `channel ${inFlight.channel} is not configured; the trade cannot be cancelled yet`);
  return recordPayOutcome(context, inFlight, await channel.query(attemptQuery(inFlight)));
}

async function closeUnpaid(context: Context, trade: TradeRow): Promise<CancelOutcome> {
  const outcome = await closeTrade(context, trade, 'CANCELLED');
  if (outcome.status === 'UNKNOWN') fail(errors.systemError, `the payment's result is not known yet (${outcome.reason}); retry the cancel`);
  if (outcome.status === 'PAID') return reversePaid(context, outcome.trade);
  return { action: 'close', trade: outcome.trade };
}

async function reversePaid(context: Context, trade: TradeRow): Promise<CancelOutcome> {
  if (trade.status !== 'TRADE_SUCCESS') fail(errors.cancelNotAllowed, `trade ${trade.trade_no} is ${trade.status}`);
  const deadline = cancelDeadline(context, trade);
  if (now() >= deadline) {
    fail(errors.cancelNotAllowed, `trade ${trade.trade_no} was paid before the cut-off of ${formatWallClock(deadline, context.config.TONGBAO_TIMEZONE)}; refund it instead`);
  }
  const started = await withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    // A parallel cancel may have committed while this one waited for the lock: answer as it did.
    const existing = await repository.findRefund(client, trade.trade_no, cancelRequestNo);
    if (existing) return { refund: existing, existing: true };
    if (locked.status !== 'TRADE_SUCCESS') fail(errors.cancelNotAllowed, `trade ${trade.trade_no} is ${locked.status}`);
    if (locked.refund_reserved_minor > 0n) fail(errors.cancelNotAllowed, `trade ${trade.trade_no} has refunds; refund the rest instead`);
    // Settled escrow has reached the merchant: the trade is past what a cancel may undo.
    if (locked.settled_amount_minor > 0n) fail(errors.cancelNotAllowed, `trade ${trade.trade_no} has settlements; refund it instead`);
    const fromEscrowMinor = refundEscrowPart(locked, locked.paid_amount_minor);
    await repository.reserveRefund(client, locked.trade_no, locked.paid_amount_minor, fromEscrowMinor);
    const inserted = await repository.insertRefund(client, {
      tradeNo: locked.trade_no, appId: locked.app_id, outRequestNo: cancelRequestNo, kind: 'CANCEL', attemptNo: locked.paid_attempt_no!,
      channel: locked.channel!, amountMinor: locked.paid_amount_minor, fromEscrowMinor, currency: locked.currency, reason: 'cancelled by the merchant',
    });
    await recordEvent(client, 'refund', inserted.refund_no, 'refund.created', { trade_no: locked.trade_no, kind: 'CANCEL', amount_minor: inserted.amount_minor });
    return { refund: await finishLocalRefund(context, client, locked, inserted), existing: false };
  });
  if (started.existing) return { action: 'refund', trade: (await repository.findTradeByNo(context.pool, trade.trade_no))!, refund: started.refund };
  context.log.info({ trade_no: trade.trade_no, refund_no: started.refund.refund_no }, 'cancelling a paid trade');
  return { action: 'refund', ...(await sendRefund(context, started.refund, trade)) };
}
