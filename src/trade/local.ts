/**
 * Payments through a channel that runs inside Tongbao (balance, coins, credit: see src/localpay/). There is
 * no channel to call, so the whole payment is one transaction: the trade row is locked (or created), the
 * attempt written, the payer's account debited by `collect`, and the trade's ordinary success path run
 * (recordSuccess: trade_status_sync, escrow, splits, the PAYMENT posting). A refusal anywhere rolls all of
 * it back, so a refused payment leaves no trace and never a PROCESSING attempt.
 */
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { isUniqueViolation, withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents, type EventRecord } from '../events/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { closeLockedTrade } from './close.js';
import { createTrade, type CreateTradeInput } from './create.js';
import { isLocalChannel, refundToPayer } from '../localpay/index.js';
import { finishRefund, recordSuccess } from './outcomes.js';
import type { PayOutcome } from './pay.js';
import * as repository from './repository.js';
import type { AttemptRow, RefundRow, TradeRow } from './repository.js';

/**
 * Moves the payer's money for `attempt`, inside the transaction that holds the trade row locked; returns the
 * reference recorded as the attempt's channel_trade_no. Throws a TongbaoError to refuse.
 */
export type LocalCollect = (client: Client, trade: TradeRow, attempt: AttemptRow) => Promise<string>;

function startedEvent(attempt: AttemptRow): EventRecord {
  return { aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.started', payload: { trade_no: attempt.trade_no, channel: attempt.channel } };
}

async function collectAndRecord(context: Context, client: Client, trade: TradeRow, channel: string, collect: LocalCollect): Promise<PayOutcome> {
  if (trade.purpose !== 'PAY') fail(errors.contextInconsistent, `trade ${trade.trade_no} is a recharge; it is paid through a channel, not from an account`);
  let attempt: AttemptRow;
  try {
    // A savepoint, so a channel attempt in flight is reported instead of aborting the transaction.
    await client.query('savepoint local_attempt');
    attempt = await repository.insertAttempt(client, trade.trade_no, channel, trade.total_amount_minor, trade.currency);
    await client.query('release savepoint local_attempt');
  } catch (error) {
    if (!isUniqueViolation(error, 'pay_attempts_one_in_flight')) throw error;
    fail(errors.payInProgress, `trade ${trade.trade_no} has a payment attempt in progress at another channel; query the trade for its result`);
  }
  await recordEvents(client, [startedEvent(attempt)]);
  const reference = await collect(client, trade, attempt);
  const paidAt = now();
  const paid = await recordSuccess(context, client, attempt, reference, paidAt);
  const finished = { ...attempt, status: 'SUCCEEDED' as const, channel_trade_no: reference, finished_at: paidAt };
  return { trade: paid, attempt: finished, result: { status: 'SUCCEEDED', channelTradeNo: reference, amountMinor: attempt.amount_minor, currency: attempt.currency, paidAt } };
}

/** Pays an existing trade: locked first, so parallel pays of one order run one after the other and charge once. */
async function payExisting(context: Context, trade: TradeRow, channel: string, collect: LocalCollect): Promise<PayOutcome> {
  const outcome = await withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    if (locked.status === 'TRADE_CLOSED') fail(errors.tradeHasClose, `trade ${locked.trade_no} is closed`);
    // Another call paid it since we looked: answer as that call did, charging nothing.
    if (locked.status !== 'WAIT_BUYER_PAY') return { trade: locked, attempt: null, result: null };
    if (locked.expires_at <= now()) {
      if (await repository.findInFlightAttempt(client, locked.trade_no)) fail(errors.payInProgress, `trade ${locked.trade_no} is past its deadline with a payment attempt in progress; query it`);
      await closeLockedTrade(context, client, locked, 'EXPIRED');
      return undefined;
    }
    return collectAndRecord(context, client, locked, channel, collect);
  });
  return outcome ?? fail(errors.tradeHasClose, `trade ${trade.trade_no} expired at ${trade.expires_at.toISOString()} and is closed`);
}

/**
 * tongbao.trade.pay through a local channel: creates the trade when asked (in the same transaction as the
 * payment, so a refused payment creates nothing), or pays the existing one. Paying a paid trade returns it.
 */
export async function payLocally(
  context: Context, app: GatewayAppRow, input: CreateTradeInput | null, existing: TradeRow | null, commonNotifyUrl: string | null, channel: string, collect: LocalCollect,
): Promise<PayOutcome> {
  if (existing) return existing.status === 'WAIT_BUYER_PAY' ? payExisting(context, existing, channel, collect) : { trade: existing, attempt: null, result: null };
  if (!input) throw new Error('payLocally needs the create fields or an existing trade');
  const created = await createTrade(context, app, input, commonNotifyUrl, async (client, fresh) => ({
    value: await collectAndRecord(context, client, fresh, channel, collect), events: [],
  }));
  if (created.extra) return created.extra;
  // The order exists already (a retry, or a parallel call won): pay it, or answer with it when paid.
  return payLocally(context, app, null, created.trade, commonNotifyUrl, channel, collect);
}

/**
 * A refund of a local payment is finished in the transaction that writes it (the trade row locked by the
 * caller): the paying account gets the money back and the refund succeeds, with its notification. Any other
 * refund is returned as it is, to be sent to its channel after the commit.
 */
export async function finishLocalRefund(context: Context, client: Client, trade: TradeRow, refund: RefundRow): Promise<RefundRow> {
  if (!isLocalChannel(refund.channel)) return refund;
  await refundToPayer(context, client, trade, refund);
  return finishRefund(context, client, refund, { status: 'SUCCEEDED', channelRefundNo: refund.refund_no, amountMinor: refund.amount_minor, currency: refund.currency });
}
