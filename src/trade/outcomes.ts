import type { ChannelQueryResult, ChannelRefundQueryResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { addSeconds, now } from '../clock.js';
import { withTransaction, type Client } from '../db/pool.js';
import { recordEvent, recordEvents } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { notifyRecharge, postRecharge } from '../account/index.js';
import { channelClearing, platformSuspense } from '../ledger/index.js';
import { findApp, findMerchant } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import * as escrowRepository from './escrow-repository.js';
import { paymentEntries, refundEntries } from './postings.js';
import { compact, createPresenter, refundFields, tradeFields } from './present.js';
import { jobKeys } from './job-keys.js';
import * as repository from './repository.js';
import type { AttemptRow, RefundRow, TradeRow } from './repository.js';


/** Where a trade's notifications go: the trade's own notify_url, else the app's default, else nowhere. */
export async function notifyUrlOf(client: Client, trade: TradeRow): Promise<string | null> {
  return trade.notify_url ?? (await findApp(client, trade.app_id))?.notify_url ?? null;
}

export async function notifyTrade(context: Context, client: Client, trade: TradeRow): Promise<void> {
  await enqueueNotification(client, {
    appId: trade.app_id,
    notifyType: 'trade_status_sync',
    tradeNo: trade.trade_no,
    refundNo: null,
    url: await notifyUrlOf(client, trade),
    fields: tradeFields(createPresenter(context.config.TONGBAO_TIMEZONE), trade),
  });
}

/**
 * Applies what a channel said about a pay attempt, from any source (the synchronous answer, a
 * callback, a compensation query). Every transition is guarded, so applying the same answer twice,
 * or two answers racing, changes state once. Returns the trade as it stands afterwards.
 */
export async function recordPayOutcome(context: Context, attempt: AttemptRow, result: ChannelQueryResult): Promise<TradeRow> {
  const log = context.log.child({ trade_no: attempt.trade_no, attempt_no: attempt.attempt_no });
  switch (result.status) {
    case 'SUCCEEDED': {
      if (result.amountMinor !== attempt.amount_minor || result.currency !== attempt.currency) {
        // The channel says it took a different sum than asked: never book it as this payment.
        log.error({ channel_amount: result.amountMinor.toString(), channel_currency: result.currency }, 'channel amount mismatch');
        await withTransaction(context.pool, (client) => repository.insertDiscrepancy(client, {
          kind: 'AMOUNT_MISMATCH', tradeNo: attempt.trade_no, recordNo: attempt.attempt_no, amountMinor: result.amountMinor, currency: result.currency,
          detail: `channel reported ${result.amountMinor} ${result.currency}, attempt asked ${attempt.amount_minor} ${attempt.currency}`,
        }));
        return (await repository.findTradeByNo(context.pool, attempt.trade_no))!;
      }
      // paid_at is when Tongbao learned of the payment, on its own (possibly test) clock: the cancel cut-off,
      // the refund window and escrow auto-confirm count from it, so it must share their clock.
      return withTransaction(context.pool, (client) => recordSuccess(context, client, attempt, result.channelTradeNo, now()));
    }
    case 'FAILED':
    case 'NOT_FOUND': {
      const code = result.status === 'FAILED' ? result.code : 'NOT_FOUND_AT_CHANNEL';
      const message = result.status === 'FAILED' ? result.message : 'the channel has no record of this attempt';
      return withTransaction(context.pool, async (client) => {
        const failed = await repository.finishAttempt(client, attempt.attempt_no, 'FAILED', {
          channelTradeNo: result.status === 'FAILED' ? result.channelTradeNo ?? null : null, failureCode: code, failureMessage: message,
        });
        if (failed) {
          await recordEvent(client, 'pay_attempt', attempt.attempt_no, 'pay_attempt.failed', { trade_no: attempt.trade_no, code, message });
          log.info({ code }, 'pay attempt failed');
        }
        return (await repository.findTradeByNo(client, attempt.trade_no))!;
      });
    }
    case 'PENDING':
      await repository.noteAttemptPending(context.pool, attempt.attempt_no, result.channelTradeNo ?? null);
      return (await repository.findTradeByNo(context.pool, attempt.trade_no))!;
    case 'UNKNOWN':
      log.warn({ reason: result.reason }, 'pay result unknown; compensation queries will resolve it');
      return (await repository.findTradeByNo(context.pool, attempt.trade_no))!;
  }
}

/**
 * The success path of every payment, inside the caller's transaction: the trade marked paid, the app told,
 * escrow scheduled, the PAYMENT posting (splits included). Local channels (trade/local.ts) call it in the
 * transaction that debits the payer.
 */
export async function recordSuccess(context: Context, client: Client, attempt: AttemptRow, channelTradeNo: string, paidAt: Date): Promise<TradeRow> {
  // Lock order everywhere: the trade row first (this guarded update takes it), then its attempts and refunds.
  const paid = await repository.markTradePaid(client, attempt, channelTradeNo, paidAt, context.config.TONGBAO_REFUND_WINDOW_DAYS);
  if (!paid) {
    const trade = (await repository.findTradeByNo(client, attempt.trade_no, true))!;
    const succeeded = await repository.markAttemptSucceeded(client, attempt.attempt_no, channelTradeNo);
    if (!succeeded) return trade; // this success was recorded before
    return recordLateSuccess(context, client, attempt, trade);
  }
  await repository.markAttemptSucceeded(client, attempt.attempt_no, channelTradeNo);
  await recordEvents(client, [
    { aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.succeeded', payload: { trade_no: attempt.trade_no, channel_trade_no: channelTradeNo } },
    { aggregateType: 'trade', aggregateId: paid.trade_no, eventType: 'trade.paid', payload: { attempt_no: attempt.attempt_no, channel: attempt.channel, amount_minor: attempt.amount_minor } },
  ]);
  if (paid.purpose === 'RECHARGE') {
    // A recharge differs only here: the money goes to the user's account, and the app hears of it as a recharge.
    await notifyRecharge(client, paid, await notifyUrlOf(client, paid), tradeFields(createPresenter(context.config.TONGBAO_TIMEZONE), paid));
    await postRecharge(context, client, paid, attempt);
    return paid;
  }
  const trade = paid.trade_type === 'ESCROW' ? await scheduleEscrowSettlement(context, client, paid) : paid;
  await notifyTrade(context, client, trade);
  const splits = trade.royalty_amount_minor > 0n ? await escrowRepository.listSplits(client, trade.trade_no, null) : [];
  // One posting per payment, and it comes last: it locks shared balance shards, which are then held only until the commit.
  await context.ledger.post(client, {
    kind: 'PAYMENT', reference: attempt.attempt_no, currency: attempt.currency, description: `trade ${attempt.trade_no}`,
    entries: paymentEntries(trade, attempt.channel, attempt.amount_minor, splits),
  });
  return trade;
}

/**
 * An escrow payment waits for the buyer's confirmation at most the merchant's confirm period (or the
 * platform default), counted from now; then the trade.escrow.settle job settles what is left. The sweep
 * finds trades whose job was lost.
 */
async function scheduleEscrowSettlement(context: Context, client: Client, paid: TradeRow): Promise<TradeRow> {
  const merchant = await findMerchant(client, paid.merchant_id);
  const settleBy = addSeconds(now(), merchant?.escrow_confirm_seconds ?? context.config.TONGBAO_ESCROW_CONFIRM_SECONDS);
  await enqueue(client, 'trade.escrow.settle', { trade_no: paid.trade_no }, { runAt: settleBy, jobKey: jobKeys.escrowSettle(paid.trade_no) });
  return escrowRepository.setEscrowSettleBy(client, paid.trade_no, settleBy);
}

/**
 * The channel took money for a trade that is no longer waiting (closed, or paid by another attempt).
 * The money is real: book it to suspense, flag a discrepancy for operators, and return it to the payer.
 */
async function recordLateSuccess(context: Context, client: Client, attempt: AttemptRow, trade: TradeRow): Promise<TradeRow> {
  context.log.warn({ trade_no: trade.trade_no, attempt_no: attempt.attempt_no, trade_status: trade.status }, 'late channel success; reversing');
  await context.ledger.post(client, {
    kind: 'PAYMENT_UNMATCHED', reference: attempt.attempt_no, currency: attempt.currency, description: `late success on trade ${trade.trade_no}`,
    entries: [
      { account: channelClearing(attempt.channel, attempt.currency), side: 'DEBIT', amountMinor: attempt.amount_minor },
      { account: platformSuspense(attempt.currency), side: 'CREDIT', amountMinor: attempt.amount_minor },
    ],
  });
  await repository.insertDiscrepancy(client, {
    kind: 'LATE_SUCCESS', tradeNo: trade.trade_no, recordNo: attempt.attempt_no, amountMinor: attempt.amount_minor, currency: attempt.currency,
    detail: `the channel reported success after the trade was ${trade.status}; the payment is refunded automatically`,
  });
  const reversal = await repository.insertRefund(client, {
    // '=' cannot appear in a merchant's out_request_no (the gateway refuses it), so reversals never collide with merchant refunds.
    tradeNo: trade.trade_no, appId: trade.app_id, outRequestNo: `reversal=${attempt.attempt_no}`, kind: 'REVERSAL', attemptNo: attempt.attempt_no,
    channel: attempt.channel, amountMinor: attempt.amount_minor, fromEscrowMinor: 0n, currency: attempt.currency, reason: 'late payment on a trade that no longer accepts it',
  });
  await recordEvents(client, [
    { aggregateType: 'pay_attempt', aggregateId: attempt.attempt_no, eventType: 'pay_attempt.succeeded_late', payload: { trade_no: trade.trade_no, trade_status: trade.status } },
    { aggregateType: 'refund', aggregateId: reversal.refund_no, eventType: 'refund.created', payload: { trade_no: trade.trade_no, kind: 'REVERSAL', amount_minor: attempt.amount_minor } },
  ]);
  // The refund is sent by its job, outside this transaction.
  await enqueue(client, 'refund.query', { refund_no: reversal.refund_no }, { jobKey: jobKeys.refundQuery(reversal.refund_no) });
  return trade;
}

/** Applies what a channel said about a refund; guarded like recordPayOutcome. */
export async function recordRefundOutcome(context: Context, refund: RefundRow, result: ChannelRefundQueryResult): Promise<RefundRow> {
  const log = context.log.child({ trade_no: refund.trade_no, refund_no: refund.refund_no });
  if (result.status === 'SUCCEEDED' && (result.amountMinor !== refund.amount_minor || result.currency !== refund.currency)) {
    log.error({ channel_amount: result.amountMinor.toString() }, 'channel refund amount mismatch; left for reconciliation');
    return refund;
  }
  if (result.status !== 'SUCCEEDED' && result.status !== 'FAILED') {
    if (result.status === 'PENDING' && result.channelRefundNo) {
      await repository.noteRefundPending(context.pool, refund.refund_no, result.channelRefundNo);
    }
    return (await repository.findRefundByNo(context.pool, refund.refund_no))!;
  }
  return withTransaction(context.pool, (client) => finishRefund(context, client, refund, result));
}

/**
 * Records a final refund result inside the caller's transaction (guarded: applied once). Local channels
 * call it in the transaction that writes the refund and credits the payer.
 */
export async function finishRefund(
  context: Context, client: Client, refund: RefundRow, result: Extract<ChannelRefundQueryResult, { status: 'SUCCEEDED' | 'FAILED' }>,
): Promise<RefundRow> {
  const log = context.log.child({ trade_no: refund.trade_no, refund_no: refund.refund_no });
  await repository.findTradeByNo(client, refund.trade_no, true); // the trade row first: see recordSuccess
  const succeeded = result.status === 'SUCCEEDED';
  const finished = await repository.finishRefund(client, refund.refund_no, succeeded ? 'REFUND_SUCCESS' : 'REFUND_FAILED', {
    channelRefundNo: succeeded ? result.channelRefundNo : null,
    failureCode: succeeded ? null : result.code,
    failureMessage: succeeded ? null : result.message,
  });
  if (!finished) return (await repository.findRefundByNo(client, refund.refund_no))!;
  await recordEvent(client, 'refund', refund.refund_no, succeeded ? 'refund.succeeded' : 'refund.failed', { trade_no: refund.trade_no, amount_minor: refund.amount_minor });
  const trade = await applyRefundToTrade(context, client, finished, succeeded);
  if (finished.kind === 'MERCHANT') {
    const present = createPresenter(context.config.TONGBAO_TIMEZONE);
    await enqueueNotification(client, {
      appId: trade.app_id, notifyType: 'refund_status_sync', tradeNo: trade.trade_no, refundNo: finished.refund_no,
      url: await notifyUrlOf(client, trade),
      fields: { ...tradeFields(present, trade), ...compact(refundFields(present, finished, trade)) },
    });
  }
  log.info({ status: finished.status }, 'refund finished');
  return finished;
}

async function applyRefundToTrade(context: Context, client: Client, refund: RefundRow, succeeded: boolean): Promise<TradeRow> {
  if (refund.kind === 'REVERSAL') {
    if (succeeded) {
      await context.ledger.post(client, {
        kind: 'REFUND', reference: refund.refund_no, currency: refund.currency, description: `reversal of late payment ${refund.attempt_no}`,
        entries: [
          { account: platformSuspense(refund.currency), side: 'DEBIT', amountMinor: refund.amount_minor },
          { account: channelClearing(refund.channel, refund.currency), side: 'CREDIT', amountMinor: refund.amount_minor },
        ],
      });
      await client.query(
        "update discrepancies set status = 'RESOLVED', resolved_at = now(), detail = detail || ' (reversed by refund ' || $2 || ')' where kind = 'LATE_SUCCESS' and record_no = $1",
        [refund.attempt_no, refund.refund_no],
      );
    }
    return (await repository.findTradeByNo(client, refund.trade_no))!;
  }
  if (!succeeded) {
    // An escrow part given back can be settled again: by the merchant, or by the sweep once the confirm period is over.
    await repository.releaseRefund(client, refund);
    return (await repository.findTradeByNo(client, refund.trade_no))!;
  }
  const trade = await repository.completeRefundOnTrade(client, refund);
  await context.ledger.post(client, {
    kind: 'REFUND', reference: refund.refund_no, currency: refund.currency, description: `refund of trade ${refund.trade_no}`,
    entries: refundEntries(trade, refund),
  });
  if (trade.status === 'TRADE_CLOSED') {
    await recordEvent(client, 'trade', trade.trade_no, 'trade.closed', { reason: trade.close_reason });
    // A cancelled trade is told as the trade's own status change; a merchant refund has its own notification.
    if (refund.kind === 'CANCEL') await notifyTrade(context, client, trade);
  }
  return trade;
}
