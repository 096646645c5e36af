import { addSeconds, now } from '../clock.js';
import type { ChannelRefundResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { formatAmount, parseAmount } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import { refundedAttempt, refundRequest } from './channel-requests.js';
import { refundEscrowPart } from './escrow.js';
import { channelNotifyUrl } from './pay.js';
import { jobKeys } from './job-keys.js';
import { finishLocalRefund } from './local.js';
import { recordRefundOutcome } from './outcomes.js';
import * as repository from './repository.js';
import type { RefundRow, TradeRow } from './repository.js';

export interface RefundInput {
  refund_amount: string | number;
  out_request_no: string;
  refund_reason?: string | undefined;
}

function sameRefund(existing: RefundRow, amountMinor: bigint, trade: TradeRow): RefundRow {
  if (existing.amount_minor !== amountMinor) {
    fail(errors.refundRequestConflict, `out_request_no ${existing.out_request_no} was used for a refund of ${formatAmount(existing.amount_minor, trade.currency)}`);
  }
  return existing;
}

/**
 * Reserves the amount and writes the refund in one transaction; the channel is called afterwards. The trade
 * row is locked first, so the escrow part computed from it is still true when it is reserved: a settlement
 * racing this refund waits, then finds that part taken.
 */
async function startRefund(context: Context, trade: TradeRow, input: RefundInput, amountMinor: bigint): Promise<RefundRow> {
  return withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    const fromEscrowMinor = refundEscrowPart(locked, amountMinor);
    const reserved = await repository.reserveRefund(client, trade.trade_no, amountMinor, fromEscrowMinor);
    if (!reserved) {
      // The locked row is the current one: it says why the guarded update refused.
      if (locked.status !== 'TRADE_SUCCESS') fail(errors.tradeNotAllowRefund, `trade ${trade.trade_no} is ${locked.status} and cannot be refunded`);
      const remaining = locked.paid_amount_minor - locked.refund_reserved_minor;
      fail(errors.refundAmountExceeded, `refund_amount is above what remains refundable: ${formatAmount(remaining, trade.currency)} ${trade.currency}`);
    }
    const refund = await repository.insertRefund(client, {
      tradeNo: trade.trade_no, appId: trade.app_id, outRequestNo: input.out_request_no, kind: 'MERCHANT', attemptNo: trade.paid_attempt_no!,
      channel: trade.channel!, amountMinor, fromEscrowMinor, currency: trade.currency, reason: input.refund_reason ?? null,
    });
    await recordEvent(client, 'refund', refund.refund_no, 'refund.created', { trade_no: trade.trade_no, amount_minor: amountMinor, from_escrow_minor: fromEscrowMinor });
    return finishLocalRefund(context, client, locked, refund);
  });
}

/** Past the refund window a trade takes no refund, even before the sweep marks it TRADE_FINISHED. */
function checkRefundWindow(context: Context, trade: TradeRow): void {
  if (trade.refund_deadline !== null && now() >= trade.refund_deadline) {
    fail(errors.tradeNotAllowRefund, `trade ${trade.trade_no} is past its refund window, which ended ${formatWallClock(trade.refund_deadline, context.config.TONGBAO_TIMEZONE)}`);
  }
}

/** Sends the refund to its channel; the channel's answer is data, never an exception. */
export async function submitRefund(context: Context, refund: RefundRow): Promise<RefundRow> {
  // A local channel's refund finished in the transaction that wrote it (trade/local.ts).
  if (refund.status !== 'REFUND_PROCESSING') return refund;
  const channel = context.channels.get(refund.channel);
  if (!channel) return refund; // left processing; the compensation job retries once the channel is back
  const payment = await refundedAttempt(context.pool, refund);
  let result: ChannelRefundResult;
  try {
    result = await channel.refund(refundRequest(refund, payment, channelNotifyUrl(context, channel.name)));
  } catch (error) {
    context.log.error({ err: error, refund_no: refund.refund_no }, 'channel adapter threw on refund');
    result = { status: 'UNKNOWN', reason: (error as Error).message };
  }
  return recordRefundOutcome(context, refund, result);
}

/**
 * tongbao.trade.refund: partial and repeated refunds, never above what was paid, idempotent on
 * out_request_no (the same request returns the same refund; a different amount is refused).
 */
export async function refundTrade(context: Context, trade: TradeRow, input: RefundInput): Promise<{ refund: RefundRow; trade: TradeRow }> {
  const parsed = parseAmount(input.refund_amount, trade.currency);
  if (!parsed.ok) fail(errors.invalidAmount, `refund_amount ${parsed.reason}`);
  const existing = await repository.findRefund(context.pool, trade.trade_no, input.out_request_no);
  if (existing) return { refund: sameRefund(existing, parsed.amountMinor, trade), trade };
  if (trade.status !== 'TRADE_SUCCESS') fail(errors.tradeNotAllowRefund, `trade ${trade.trade_no} is ${trade.status} and cannot be refunded`);
  // The recharged money is the user's to spend or withdraw; giving it back by the card would let it leave twice.
  if (trade.purpose === 'RECHARGE') fail(errors.tradeNotAllowRefund, `trade ${trade.trade_no} is a recharge; its money is withdrawn from the account, not refunded`);
  checkRefundWindow(context, trade);

  let refund: RefundRow;
  try {
    refund = await startRefund(context, trade, input, parsed.amountMinor);
  } catch (error) {
    if (!isUniqueViolation(error, 'refunds_trade_no_out_request_no_key')) throw error;
    // A parallel call with the same out_request_no won; answer as it did.
    const winner = (await repository.findRefund(context.pool, trade.trade_no, input.out_request_no))!;
    return { refund: sameRefund(winner, parsed.amountMinor, trade), trade };
  }
  return sendRefund(context, refund, trade);
}

/**
 * Sends a refund written (and its amount reserved) by the caller, and schedules a query when the answer is
 * not final; should the process die first, the periodic sweep finds the refund still processing.
 */
export async function sendRefund(context: Context, refund: RefundRow, trade: TradeRow): Promise<{ refund: RefundRow; trade: TradeRow }> {
  const finished = await submitRefund(context, refund);
  if (finished.status === 'REFUND_PROCESSING') {
    await enqueue(context.pool, 'refund.query', { refund_no: refund.refund_no }, {
      runAt: addSeconds(now(), context.config.compensationRetrySeconds[0]!), jobKey: jobKeys.refundQuery(refund.refund_no),
    });
  }
  return { refund: finished, trade: (await repository.findTradeByNo(context.pool, trade.trade_no))! };
}
