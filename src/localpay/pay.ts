/**
 * tongbao.trade.pay with channel balance, coin or credit: who pays (user_id or out_user_id), whether the
 * pay password is needed (小额免密 lets small payments skip it), then the payment as one transaction
 * (trade/local.ts) that debits the account through the channel (channels.ts).
 *
 * The password is checked before the transaction and before anything about the account is revealed: a wrong
 * password says nothing about the balance. The password-free daily total is taken inside the transaction, so
 * a payment refused afterwards (not enough balance) gives it back by rolling back.
 */
import type { Context } from '../context.js';
import type { Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { requireUser, type UserRow } from '../account/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { formatAmount } from '../shared/money.js';
import { payLocally } from '../trade/local.js';
import type { CreateTradeInput } from '../trade/create.js';
import type { PayOutcome } from '../trade/pay.js';
import type { TradeRow } from '../trade/repository.js';
import { chargeFor, collect, type LocalChannelName } from './channels.js';
import { businessDate } from './credit.js';
import { verifyPayPassword } from './password.js';
import * as repository from './repository.js';

/** The payer of a local payment, in tongbao.trade.pay's biz_content. */
export interface LocalPayerInput {
  user_id?: string | undefined;
  out_user_id?: string | undefined;
  /** Never stored, never logged (the logger redacts it): only its hash is compared. */
  pay_password?: string | undefined;
  coin_unit?: string | undefined;
}

type Authorization = { by: 'PASSWORD' } | { by: 'NO_PASSWORD'; dailyCapMinor: bigint };

/**
 * Without a password, the payment must fit the user's own password-free limit and the app's maximum per
 * payment; the daily cap is checked in the transaction. Otherwise ACCOUNT.PAY_PASSWORD_REQUIRED says why.
 */
async function noPasswordAuthorization(context: Context, user: UserRow, amountMinor: bigint, currency: string): Promise<Authorization> {
  const limits = await repository.findNoPasswordLimits(context.pool, user.app_id, user.user_id, currency);
  if (limits.user_single_minor === null || limits.app_single_minor === null || limits.app_single_minor === 0n) {
    fail(errors.payPasswordRequired, `pay_password is required: password-free payments in ${currency} are not enabled for user ${user.user_id}`);
  }
  const single = limits.user_single_minor < limits.app_single_minor ? limits.user_single_minor : limits.app_single_minor;
  if (amountMinor > single) {
    fail(errors.payPasswordRequired, `pay_password is required: ${formatAmount(amountMinor, currency)} ${currency} is above the password-free limit of ${formatAmount(single, currency)}`);
  }
  return { by: 'NO_PASSWORD', dailyCapMinor: limits.app_daily_minor ?? 0n };
}

async function takeDailyAllowance(context: Context, client: Client, user: UserRow, trade: TradeRow, cap: bigint): Promise<void> {
  const taken = await repository.addNoPasswordUsage(client, user.user_id, trade.currency, businessDate(context), trade.total_amount_minor, cap);
  if (!taken) {
    fail(errors.payPasswordRequired, `pay_password is required: this payment would take today's password-free total above ${formatAmount(cap, trade.currency)} ${trade.currency}`);
  }
}

/**
 * Pays the order (`existing`, or a new one from `create`) of `amountMinor` in `currency` from the user's
 * account through a local channel. Paying an order that is already paid answers with it and checks nothing.
 */
export async function payByAccount(
  context: Context, app: GatewayAppRow, channel: LocalChannelName, payer: LocalPayerInput, commonNotifyUrl: string | null,
  order: { existing: TradeRow | null; create: CreateTradeInput | null; amountMinor: bigint; currency: string },
): Promise<PayOutcome> {
  if (order.existing && order.existing.status !== 'WAIT_BUYER_PAY') return { trade: order.existing, attempt: null, result: null };
  const user = await requireUser(context.pool, app.app_id, payer);
  // The coin rule is checked before the password, so a refused amount costs the user no try.
  await chargeFor(context.pool, channel, user, order.amountMinor, order.currency, payer.coin_unit);
  let authorization: Authorization;
  if (payer.pay_password !== undefined) {
    await verifyPayPassword(context, user.user_id, payer.pay_password);
    authorization = { by: 'PASSWORD' };
  } else {
    authorization = await noPasswordAuthorization(context, user, order.amountMinor, order.currency);
  }
  return payLocally(context, app, order.create, order.existing, commonNotifyUrl, channel, async (client, trade, attempt) => {
    // The amount the password-free decision was made for; an order modified meanwhile is paid again by the caller.
    if (trade.total_amount_minor !== order.amountMinor) fail(errors.contextInconsistent, `trade ${trade.trade_no} changed its amount since this payment started; pay again`);
    if (authorization.by === 'NO_PASSWORD') await takeDailyAllowance(context, client, user, trade, authorization.dailyCapMinor);
    const charge = await chargeFor(client, channel, user, trade.total_amount_minor, trade.currency, payer.coin_unit);
    return collect(context, client, charge, trade, attempt, authorization.by);
  });
}
