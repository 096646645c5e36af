import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { recordEvent } from '../events/index.js';
import { enqueue, type JobHandlers } from '../jobs/index.js';
import { pruneCallbackReceipts } from './callback-receipts.js';
import { attemptQuery, refundedAttempt, refundQuery } from './channel-requests.js';
import { closeTrade } from './close.js';
import { listEscrowTradesDue } from './escrow-repository.js';
import { jobKeys } from './job-keys.js';
import { notifyTrade, recordPayOutcome, recordRefundOutcome } from './outcomes.js';
import { submitRefund } from './refund.js';
import * as repository from './repository.js';
import { autoSettleTrade } from './settle.js';

const retryCloseSeconds = 60;
/** Bounded work per sweep; a backlog drains over successive minutes. */
const sweepBatchSize = 500;

/** The trade domain's background jobs: order expiry, compensation queries for pending results, escrow settlement, and the sweep. */
export function tradeJobHandlers(context: Context): Pick<JobHandlers, 'trade.expire' | 'trade.pay.query' | 'refund.query' | 'trade.escrow.settle' | 'trade.sweep'> {
  return {
    /**
     * Every minute (graphile-worker cron): orders past their deadline get an expiry job, and attempts and
     * refunds still processing that nobody is querying (the process died between the channel call and
     * scheduling the query) get a compensation query, and escrow trades due for settlement without a settle
     * job (a lost job, or escrow a failed refund gave back) get one, and expired callback receipts are pruned.
     * Job keys with preserved run times make it idempotent.
     */
    async 'trade.sweep'() {
      const at = now();
      const staleBefore = new Date(at.getTime() - context.config.TONGBAO_CHANNEL_TIMEOUT_MS * 2);
      const maxQueries = context.config.compensationRetrySeconds.length;
      for (const tradeNo of await repository.listOverdueTrades(context.pool, at, sweepBatchSize)) {
        await enqueue(context.pool, 'trade.expire', { trade_no: tradeNo }, { jobKey: jobKeys.expire(tradeNo), preserveRunAt: true });
      }
      for (const attemptNo of await repository.listStaleAttempts(context.pool, staleBefore, maxQueries, sweepBatchSize)) {
        await enqueue(context.pool, 'trade.pay.query', { attempt_no: attemptNo }, { jobKey: jobKeys.payQuery(attemptNo), preserveRunAt: true });
      }
      for (const refundNo of await repository.listStaleRefunds(context.pool, staleBefore, maxQueries, sweepBatchSize)) {
        await enqueue(context.pool, 'refund.query', { refund_no: refundNo }, { jobKey: jobKeys.refundQuery(refundNo), preserveRunAt: true });
      }
      for (const tradeNo of await listEscrowTradesDue(context.pool, at, sweepBatchSize)) {
        await enqueue(context.pool, 'trade.escrow.settle', { trade_no: tradeNo }, { jobKey: jobKeys.escrowSettle(tradeNo), preserveRunAt: true });
      }
      for (const tradeNo of await repository.listTradesToFinish(context.pool, at, sweepBatchSize)) await finishTrade(context, tradeNo, at);
      // Callbacks past their window are refused as stale by their adapter anyway: their receipts can go.
      await pruneCallbackReceipts(context.pool, sweepBatchSize);
    },

    async 'trade.escrow.settle'({ trade_no }) {
      await autoSettleTrade(context, trade_no);
    },

    async 'trade.expire'({ trade_no }) {
      const trade = await repository.findTradeByNo(context.pool, trade_no);
      if (!trade || trade.status !== 'WAIT_BUYER_PAY') return;
      if (trade.expires_at > now()) {
        await enqueue(context.pool, 'trade.expire', { trade_no }, { runAt: trade.expires_at, jobKey: jobKeys.expire(trade_no) });
        return;
      }
      const outcome = await closeTrade(context, trade, 'EXPIRED');
      if (outcome.status === 'UNKNOWN') {
        context.log.warn({ trade_no, reason: outcome.reason }, 'expiry could not close the trade yet; retrying');
        await enqueue(context.pool, 'trade.expire', { trade_no }, { runAt: addSeconds(now(), retryCloseSeconds), jobKey: jobKeys.expire(trade_no) });
      }
    },

    async 'trade.pay.query'({ attempt_no }) {
      const attempt = await repository.findAttempt(context.pool, attempt_no);
      if (!attempt || attempt.status !== 'PROCESSING') return;
      const channel = context.channels.get(attempt.channel);
      const result = channel ? await channel.query(attemptQuery(attempt)) : ({ status: 'UNKNOWN', reason: `channel ${attempt.channel} is not configured` } as const);
      const safeResult = result.status === 'NOT_FOUND' && !pastChannelTimeout(context, attempt.created_at)
        ? ({ status: 'UNKNOWN', reason: 'not found yet; the original request may still be on its way' } as const)
        : result;
      await recordPayOutcome(context, attempt, safeResult);
      const after = await repository.findAttempt(context.pool, attempt_no);
      if (after?.status === 'PROCESSING') await scheduleNextQuery(context, 'payment', attempt.trade_no, attempt_no, attempt.amount_minor, attempt.currency);
    },

    async 'refund.query'({ refund_no }) {
      const refund = await repository.findRefundByNo(context.pool, refund_no);
      if (!refund || refund.status !== 'REFUND_PROCESSING') return;
      const channel = context.channels.get(refund.channel);
      if (channel) {
        const answer = await channel.queryRefund(refundQuery(refund, await refundedAttempt(context.pool, refund)));
        if (answer.status === 'NOT_FOUND') {
          // Never reached the channel (or is a reversal still to send): send it now; refund_no is the channel's idempotency key.
          await submitRefund(context, refund);
        } else {
          await recordRefundOutcome(context, refund, answer);
        }
      }
      const after = await repository.findRefundByNo(context.pool, refund_no);
      if (after?.status === 'REFUND_PROCESSING') await scheduleNextQuery(context, 'refund', refund.trade_no, refund_no, refund.amount_minor, refund.currency);
    },
  };
}

function pastChannelTimeout(context: Context, createdAt: Date): boolean {
  return now().getTime() - createdAt.getTime() > context.config.TONGBAO_CHANNEL_TIMEOUT_MS * 2;
}

/**
 * Schedules the next compensation query on the widening schedule. Past the last step the record is
 * flagged for reconciliation and shown to operators; it is never closed silently while money may have moved.
 */
async function scheduleNextQuery(context: Context, kind: 'payment' | 'refund', tradeNo: string, recordNo: string, amountMinor: bigint, currency: string): Promise<void> {
  const count = kind === 'payment'
    ? await repository.countAttemptQuery(context.pool, recordNo)
    : await repository.countRefundQuery(context.pool, recordNo);
  const delay = context.config.compensationRetrySeconds[count];
  if (delay === undefined) {
    await withTransaction(context.pool, (client) => repository.insertDiscrepancy(client, {
      kind: kind === 'payment' ? 'PAYMENT_UNRESOLVED' : 'REFUND_UNRESOLVED', tradeNo, recordNo,
      amountMinor, currency, detail: `the channel gave no final ${kind} result for ${recordNo} after ${count} queries`,
    }));
    context.log.error({ trade_no: tradeNo, record_no: recordNo }, `${kind} unresolved after all compensation queries`);
    return;
  }
  const runAt = addSeconds(now(), delay);
  if (kind === 'payment') await enqueue(context.pool, 'trade.pay.query', { attempt_no: recordNo }, { runAt, jobKey: jobKeys.payQuery(recordNo) });
  else await enqueue(context.pool, 'refund.query', { refund_no: recordNo }, { runAt, jobKey: jobKeys.refundQuery(recordNo) });
}

/**
 * A paid trade past its refund window, fully settled and with no refund under way, is TRADE_FINISHED: final,
 * no longer refundable. The app is told like any other status change.
 */
async function finishTrade(context: Context, tradeNo: string, at: Date): Promise<void> {
  await withTransaction(context.pool, async (client) => {
    const finished = await repository.markTradeFinished(client, tradeNo, at);
    if (!finished) return;
    await recordEvent(client, 'trade', tradeNo, 'trade.finished', { refund_deadline: finished.refund_deadline });
    await notifyTrade(context, client, finished);
  });
}
