/**
 * Withholding (代扣): the merchant debits a signed WITHHOLDING agreement without the payer present, through
 * tongbao.agreement.withhold. Each debit is a trade created and paid by the trade domain with the agreement as
 * payer. Before the channel is called, the debit reserves its amount and one count in its period's usage with a
 * guarded UPDATE (repository.reservePeriod), so parallel debits can never exceed the period's limits. When the
 * payment is known to have failed, the reservation is given back; when it is paid, it stays.
 *
 * Only the call that made the reservation pays: a repeat with the same out_trade_no while it is RESERVED answers
 * "in progress" and one that finds it CONSUMED answers with the paid trade. A job, enqueued with the reservation,
 * settles a reservation whose payment was still unknown when the call returned (or whose call died).
 */
import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { enqueue } from '../jobs/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { formatWallClock } from '../shared/time.js';
import { findTrade, listAttempts, payTrade, tradeAmount, tradeCurrency, type PayOutcome } from '../trade/index.js';
import { checkAmount, payerOf, requireUsable } from './payer.js';
import * as repository from './repository.js';
import type { AgreementRow, DebitRow } from './repository.js';

export interface WithholdInput {
  agreement_no: string;
  out_trade_no: string;
  total_amount: string | number;
  currency?: string | undefined;
  subject: string;
  body?: string | undefined;
  notify_url?: string | undefined;
  passback_params?: string | undefined;
}

/** The period a debit counts in: the day or month of the business clock in the gateway's zone. */
export function periodKey(period: 'DAY' | 'MONTH', at: Date, zone: string): string {
  const wallClock = formatWallClock(at, zone);
  return period === 'DAY' ? wallClock.slice(0, 10) : wallClock.slice(0, 7);
}

/** How long after its reservation a debit's job may decide on it: by then the reserving call's channel call is over. */
function settleDelaySeconds(context: Context): number {
  return (2 * context.config.TONGBAO_CHANNEL_TIMEOUT_MS) / 1000 + context.config.compensationRetrySeconds[0]!;
}

type Reservation = { readonly reserved: true } | { readonly reserved: false; readonly debit: DebitRow };

async function reserve(context: Context, agreement: AgreementRow, outTradeNo: string, amountMinor: bigint, currency: string): Promise<Reservation> {
  return withTransaction(context.pool, async (client) => {
    // Shared lock: an unsign waits for this reservation, and a reservation never starts on an agreement being unsigned.
    const locked = (await repository.findAgreementByNo(client, agreement.agreement_no, 'share'))!;
    if (locked.status !== 'ACTIVE') fail(errors.agreementNotActive, `agreement ${agreement.agreement_no} is ${locked.status}; only an ACTIVE agreement can be debited`);
    const existing = await repository.findDebit(client, agreement.agreement_no, outTradeNo, true);
    if (existing && (existing.amount_minor !== amountMinor || existing.currency !== currency)) {
      fail(errors.agreementDebitConflict, `out_trade_no ${outTradeNo} was already debited on agreement ${agreement.agreement_no} for another amount`);
    }
    if (existing && existing.status !== 'RELEASED') return { reserved: false, debit: existing };

    const reservedAt = now();
    const key = periodKey(locked.period!, reservedAt, context.config.TONGBAO_TIMEZONE);
    if (!(await repository.reservePeriod(client, agreement.agreement_no, key, amountMinor, locked.period_limit_minor, locked.period_count_limit))) {
      fail(errors.agreementPeriodLimitExceeded, `agreement ${agreement.agreement_no} has no room left in period ${key} for this debit (limit ${locked.period_limit_minor ?? 'none'} minor units, ${locked.period_count_limit ?? 'any number of'} debits)`);
    }
    if (existing) await repository.reReserveDebit(client, agreement.agreement_no, outTradeNo, key, reservedAt);
    else await repository.insertDebit(client, { agreementNo: agreement.agreement_no, outTradeNo, amountMinor, currency, periodKey: key, reservedAt });
    await scheduleSettle(context, client, agreement.agreement_no, outTradeNo, settleDelaySeconds(context), 0);
    return { reserved: true };
  });
}

export async function scheduleSettle(context: Context, client: Queryable, agreementNo: string, outTradeNo: string, delaySeconds: number, round: number): Promise<void> {
  await enqueue(client, 'agreement.debit.settle', { agreement_no: agreementNo, out_trade_no: outTradeNo, round }, {
    runAt: addSeconds(now(), delaySeconds), jobKey: `agreement.debit.settle:${agreementNo}:${outTradeNo}`,
  });
}

/** tongbao.agreement.withhold: reserve, create and pay the trade through the agreement, then settle the reservation. */
export async function withhold(context: Context, app: GatewayAppRow, input: WithholdInput, commonNotifyUrl: string | null): Promise<PayOutcome> {
  const found = await repository.findAgreement(context.pool, app.app_id, { agreementNo: input.agreement_no });
  const agreement = requireUsable(found, input.agreement_no, 'WITHHOLDING', found?.channel ?? '');
  const currency = tradeCurrency(input.currency);
  const amountMinor = tradeAmount(app, input.total_amount, currency);
  checkAmount(agreement, amountMinor, currency);

  const reservation = await reserve(context, agreement, input.out_trade_no, amountMinor, currency);
  if (!reservation.reserved) {
    const trade = await findTrade(context.pool, app.app_id, { outTradeNo: input.out_trade_no });
    if (reservation.debit.status === 'CONSUMED' && trade) return { trade, attempt: null, result: null };
    fail(errors.payInProgress, `the debit ${input.out_trade_no} on agreement ${agreement.agreement_no} is in progress; query the trade`);
  }
  try {
    return await payTrade(context, app, {
      out_trade_no: input.out_trade_no, total_amount: input.total_amount, currency, subject: input.subject, body: input.body,
      notify_url: input.notify_url, passback_params: input.passback_params, channel: agreement.channel, resolvedPayer: payerOf(agreement),
    }, commonNotifyUrl);
  } finally {
    await settleDebit(context, app.app_id, agreement.agreement_no, input.out_trade_no, { reserver: true });
  }
}

/**
 * Keeps a reservation whose trade is paid, gives back one whose payment has failed (no attempt at the channel and
 * the trade unpaid), and leaves one whose payment is still at the channel. Only the reserving call, or the job
 * once that call must be over, decides: before the trade's attempt exists, "no attempt" does not mean "failed".
 * Returns whether the debit is still RESERVED.
 */
export async function settleDebit(context: Context, appId: string, agreementNo: string, outTradeNo: string, options: { reserver: boolean }): Promise<boolean> {
  return withTransaction(context.pool, async (client) => {
    const debit = await repository.findDebit(client, agreementNo, outTradeNo, true);
    if (!debit || debit.status !== 'RESERVED') return false;
    if (!options.reserver && addSeconds(debit.reserved_at, settleDelaySeconds(context) - 1) > now()) return true;
    const trade = await findTrade(client, appId, { outTradeNo });
    if (trade?.paid_at) {
      await repository.finishDebit(client, agreementNo, outTradeNo, 'CONSUMED', trade.trade_no);
      return false;
    }
    if (trade && (await listAttempts(client, trade.trade_no)).some((attempt) => attempt.status === 'PROCESSING')) {
      await repository.noteDebitTrade(client, agreementNo, outTradeNo, trade.trade_no);
      return true;
    }
    await repository.releasePeriod(client, agreementNo, debit.period_key, debit.amount_minor);
    await repository.finishDebit(client, agreementNo, outTradeNo, 'RELEASED', trade?.trade_no ?? null);
    return false;
  });
}
