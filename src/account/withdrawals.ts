/**
 * Withdrawals (提现/出款) of a user's wallet to a bank card or a third-party account, in the pipeline's order:
 * validate, then one transaction that checks the account under its lock (real name, status, available
 * balance, the daily limit), writes the withdrawal and holds the amount (available -> frozen); then the
 * channel's payout OUTSIDE any transaction; then the result in a new transaction. Success takes the held
 * money out to the channel; failure releases it; an unknown result is queried (fund.withdraw.query) and
 * never assumed failed.
 */
import { addSeconds, now } from '../clock.js';
import type { GuardedChannel } from '../channels/guard.js';
import type { ChannelOperationQueryResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { channelClearing, userAvailable, userFrozen } from '../ledger/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import { currencyExponent, isSupportedCurrency } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import { holdEntries, releaseEntries } from './postings.js';
import * as repository from './repository.js';
import { formatUnits, parseUnits } from './units.js';
import { assertCanDebit, requireUser, requireUserAccount } from './users.js';

export type PayeeType = 'BANK_CARD' | 'ALIPAY_ACCOUNT' | 'WECHAT_OPENID';

export interface WithdrawalRow {
  withdraw_no: string;
  app_id: string;
  out_biz_no: string;
  user_id: string;
  account_no: string;
  currency: string;
  amount_minor: bigint;
  payee_type: PayeeType;
  payee_identity_masked: string;
  payee_name: string | null;
  remark: string | null;
  notify_url: string | null;
  channel: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  channel_ref: string | null;
  failure_code: string | null;
  failure_message: string | null;
  query_count: number;
  business_date: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface WithdrawInput {
  out_biz_no: string;
  user_id?: string | undefined;
  out_user_id?: string | undefined;
  amount: string | number;
  currency?: string | undefined;
  payee_type: PayeeType;
  payee_identity: string;
  payee_name?: string | undefined;
  remark?: string | undefined;
  channel?: string | undefined;
  notify_url?: string | undefined;
}

export const withdrawJobKey = (withdrawNo: string) => `fund.withdraw.query:${withdrawNo}`;

/** The full card number or account goes to the channel only; the database keeps its last four. */
export function maskPayee(identity: string): string {
  return identity.length <= 4 ? '*'.repeat(identity.length) : `${'*'.repeat(Math.min(identity.length - 4, 12))}${identity.slice(-4)}`;
}

function payoutChannel(context: Context, name: string, currency: string): GuardedChannel {
  const channel = context.channels.get(name);
  if (!channel?.payouts) fail(errors.channelNotSupported, `channel ${name} is not enabled or cannot pay out`);
  if (!channel.capabilities.currencies.includes(currency)) fail(errors.channelNotSupported, `channel ${name} does not pay out ${currency}`);
  if (!channel.available()) fail(errors.channelUnavailable, `channel ${name} is out of service (circuit breaker open); nothing was held`);
  return channel;
}

export async function findWithdrawal(client: Queryable, appId: string, outBizNo: string): Promise<WithdrawalRow | undefined> {
  const { rows } = await client.query<WithdrawalRow>("select *, to_char(business_date, 'YYYY-MM-DD') as business_date from withdrawals where app_id = $1 and out_biz_no = $2", [appId, outBizNo]);
  return rows[0];
}

async function findWithdrawalByNo(client: Queryable, withdrawNo: string): Promise<WithdrawalRow | undefined> {
  const { rows } = await client.query<WithdrawalRow>("select *, to_char(business_date, 'YYYY-MM-DD') as business_date from withdrawals where withdraw_no = $1", [withdrawNo]);
  return rows[0];
}

function sameWithdrawal(existing: WithdrawalRow, amountMinor: bigint, currency: string, input: WithdrawInput): WithdrawalRow {
  const same = existing.amount_minor === amountMinor && existing.currency === currency && existing.payee_type === input.payee_type
    && existing.payee_identity_masked === maskPayee(input.payee_identity);
  if (!same) fail(errors.fundOrderConflict, `out_biz_no ${existing.out_biz_no} was already used for ${formatUnits(existing.amount_minor, existing.currency)} ${existing.currency} to ${existing.payee_identity_masked}`);
  return existing;
}

/** What the user has withdrawn (or is withdrawing) from the account on this business day. */
async function withdrawnToday(client: Queryable, accountNo: string, businessDate: string): Promise<bigint> {
  const { rows } = await client.query<{ total: bigint }>(
    "select coalesce(sum(amount_minor), 0)::bigint as total from withdrawals where account_no = $1 and business_date = $2 and status <> 'FAILED'",
    [accountNo, businessDate],
  );
  return rows[0]!.total;
}

/** tongbao.fund.withdraw. Idempotent on out_biz_no: a repeat answers with the withdrawal as it stands. */
export async function withdraw(context: Context, app: GatewayAppRow, input: WithdrawInput, commonNotifyUrl: string | null): Promise<WithdrawalRow> {
  const currency = input.currency ?? 'CNY';
  if (!isSupportedCurrency(currency)) fail(errors.currencyNotSupported, `currency ${currency} is not supported`);
  const channel = payoutChannel(context, input.channel ?? 'sandbox', currency);
  const parsed = parseUnits(input.amount, currency);
  if (!parsed.ok) fail(errors.invalidAmount, `amount ${parsed.reason}`);
  const amountMinor = parsed.amountMinor;
  const earlier = await findWithdrawal(context.pool, app.app_id, input.out_biz_no);
  if (earlier) return sameWithdrawal(earlier, amountMinor, currency, input);

  const started = await withTransaction(context.pool, async (client) => {
    const user = await requireUser(client, app.app_id, input);
    if (user.verified_at === null) fail(errors.realNameRequired, `user ${user.user_id} has no verified real name; withdrawals need one`);
    const account = await requireUserAccount(context, client, user, 'WALLET', currency, { forUpdate: true });
    assertCanDebit(account, amountMinor);
    const businessDate = formatWallClock(now(), context.config.TONGBAO_TIMEZONE).slice(0, 10);
    const limitMinor = dailyLimitMinor(context.config.TONGBAO_WITHDRAW_DAILY_LIMIT, currency);
    const today = await withdrawnToday(client, account.accountNo, businessDate);
    if (today + amountMinor > limitMinor) {
      fail(errors.withdrawDailyLimitExceeded, `the daily limit is ${formatUnits(limitMinor, currency)} ${currency}; ${formatUnits(today, currency)} is withdrawn today`);
    }
    const { rows } = await client.query<WithdrawalRow>(
      `insert into withdrawals (withdraw_no, app_id, out_biz_no, user_id, account_no, currency, amount_minor, payee_type, payee_identity_masked,
                                payee_name, remark, channel, status, business_date, notify_url)
       values ('W' || next_business_no(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'PROCESSING', $12, $13)
       on conflict (app_id, out_biz_no) do nothing
       returning *, to_char(business_date, 'YYYY-MM-DD') as business_date`,
      [app.app_id, input.out_biz_no, user.user_id, account.accountNo, currency, amountMinor, input.payee_type, maskPayee(input.payee_identity),
        input.payee_name ?? null, input.remark ?? null, channel.name, businessDate, input.notify_url ?? commonNotifyUrl ?? app.notify_url],
    );
    const withdrawal = rows[0];
    if (!withdrawal) return undefined;
    await context.ledger.post(client, { kind: 'WITHDRAW_HOLD', reference: withdrawal.withdraw_no, currency, entries: holdEntries(account, amountMinor) });
    await recordEvent(client, 'account', account.accountNo, 'account.withdraw_started', { withdraw_no: withdrawal.withdraw_no, amount_minor: amountMinor, currency });
    return withdrawal;
  });
  // A parallel identical request wrote it first: answer as it does.
  if (!started) return sameWithdrawal((await findWithdrawal(context.pool, app.app_id, input.out_biz_no))!, amountMinor, currency, input);

  const result = await channel.payouts!.payout({
    payoutNo: started.withdraw_no, amountMinor, currency, remark: started.remark,
    payee: { type: input.payee_type, identity: input.payee_identity, ...(input.payee_name === undefined ? {} : { name: input.payee_name }) },
  }).catch((error: unknown) => ({ status: 'UNKNOWN' as const, reason: (error as Error).message }));
  const recorded = await recordWithdrawOutcome(context, started, result);
  if (recorded.status === 'PROCESSING') {
    await enqueue(context.pool, 'fund.withdraw.query', { withdraw_no: started.withdraw_no }, {
      runAt: addSeconds(now(), context.config.compensationRetrySeconds[0]!), jobKey: withdrawJobKey(started.withdraw_no),
    });
  }
  return recorded;
}

/**
 * TONGBAO_WITHDRAW_DAILY_LIMIT is in major units of whatever currency the wallet is in ("50000.00"), like the
 * app's order limit; it is read in thousandths so the currency's exponent (0, 2 or 3) cannot shift it.
 */
export function dailyLimitMinor(limit: string, currency: string): bigint {
  const [whole, fraction = ''] = limit.split('.');
  const thousandths = BigInt(whole!) * 1000n + BigInt(fraction.padEnd(3, '0'));
  return thousandths / 10n ** BigInt(3 - currencyExponent(currency));
}

/**
 * Applies a channel's answer about a withdrawal, from any source. The transition PROCESSING -> final is
 * guarded, so an answer applied twice moves money once. Returns the withdrawal as it stands.
 */
export async function recordWithdrawOutcome(context: Context, withdrawal: WithdrawalRow, result: ChannelOperationQueryResult): Promise<WithdrawalRow> {
  const log = context.log.child({ withdraw_no: withdrawal.withdraw_no });
  if (result.status === 'SUCCEEDED' && (result.amountMinor !== withdrawal.amount_minor || result.currency !== withdrawal.currency)) {
    log.error({ channel_amount: result.amountMinor.toString() }, 'payout amount mismatch; left processing for operators');
    return withdrawal;
  }
  if (result.status === 'PENDING' || result.status === 'UNKNOWN') {
    if (result.status === 'PENDING' && result.channelRef) {
      await context.pool.query('update withdrawals set channel_ref = $2, updated_at = now() where withdraw_no = $1 and status = \'PROCESSING\'', [withdrawal.withdraw_no, result.channelRef]);
    }
    return (await findWithdrawalByNo(context.pool, withdrawal.withdraw_no))!;
  }
  const succeeded = result.status === 'SUCCEEDED';
  return withTransaction(context.pool, async (client) => {
    const { rows } = await client.query<WithdrawalRow>(
      `update withdrawals set status = $2, channel_ref = coalesce($3, channel_ref), failure_code = $4, failure_message = $5, finished_at = now(), updated_at = now()
       where withdraw_no = $1 and status = 'PROCESSING' returning *, to_char(business_date, 'YYYY-MM-DD') as business_date`,
      [withdrawal.withdraw_no, succeeded ? 'SUCCESS' : 'FAILED', succeeded ? result.channelRef : null,
        succeeded ? null : result.status === 'FAILED' ? result.code : 'NOT_FOUND_AT_CHANNEL',
        succeeded ? null : result.status === 'FAILED' ? result.message : 'the channel has no record of this payout'],
    );
    const finished = rows[0];
    if (!finished) return (await findWithdrawalByNo(client, withdrawal.withdraw_no))!;
    const account = (await repository.findUserAccountByNo(client, finished.account_no))!;
    const held = { available: userAvailable(account.user_id, account.type, account.currency), frozen: userFrozen(account.user_id, account.type, account.currency) };
    // Completions: the withdrawal was accepted while the account allowed it, so a status set since does not stop its end.
    await context.ledger.post(client, succeeded
      ? {
        kind: 'WITHDRAW', reference: finished.withdraw_no, currency: finished.currency, completion: true,
        entries: [{ account: held.frozen, side: 'DEBIT', amountMinor: finished.amount_minor }, { account: channelClearing(finished.channel, finished.currency), side: 'CREDIT', amountMinor: finished.amount_minor }],
      }
      : { kind: 'WITHDRAW_RELEASE', reference: finished.withdraw_no, currency: finished.currency, completion: true, entries: releaseEntries(held, finished.amount_minor) });
    await recordEvent(client, 'account', finished.account_no, succeeded ? 'account.withdraw_succeeded' : 'account.withdraw_failed', { withdraw_no: finished.withdraw_no, code: finished.failure_code });
    await notifyWithdrawal(context, client, finished);
    log.info({ status: finished.status }, 'withdrawal finished');
    return finished;
  });
}

/** The withdrawal as the gateway and notifications present it. */
export async function withdrawalFields(context: Context, client: Queryable, withdrawal: WithdrawalRow): Promise<Record<string, string | undefined>> {
  const user = await repository.findUserById(client, withdrawal.user_id);
  const time = (date: Date | null) => (date ? formatWallClock(date, context.config.TONGBAO_TIMEZONE) : undefined);
  return {
    withdraw_no: withdrawal.withdraw_no,
    out_biz_no: withdrawal.out_biz_no,
    user_id: withdrawal.user_id,
    out_user_id: user?.out_user_id,
    account_no: withdrawal.account_no,
    amount: formatUnits(withdrawal.amount_minor, withdrawal.currency),
    currency: withdrawal.currency,
    payee_type: withdrawal.payee_type,
    payee_identity: withdrawal.payee_identity_masked,
    channel: withdrawal.channel,
    withdraw_status: withdrawal.status,
    failure_code: withdrawal.failure_code ?? undefined,
    failure_message: withdrawal.failure_message ?? undefined,
    gmt_create: time(withdrawal.created_at),
    gmt_finish: time(withdrawal.finished_at),
  };
}

async function notifyWithdrawal(context: Context, client: Queryable, withdrawal: WithdrawalRow): Promise<void> {
  await enqueueNotification(client, {
    appId: withdrawal.app_id, notifyType: 'withdraw_status_sync', tradeNo: null, refundNo: null, url: withdrawal.notify_url,
    fields: await withdrawalFields(context, client, withdrawal),
  });
}

/** fund.withdraw.query: asks the channel on the compensation schedule; past its end, operators get a discrepancy. */
export async function queryWithdrawal(context: Context, withdrawNo: string): Promise<void> {
  const withdrawal = await findWithdrawalByNo(context.pool, withdrawNo);
  if (!withdrawal || withdrawal.status !== 'PROCESSING') return;
  const channel = context.channels.get(withdrawal.channel);
  const result: ChannelOperationQueryResult = channel?.payouts ? await channel.payouts.query(withdrawNo) : { status: 'UNKNOWN', reason: `channel ${withdrawal.channel} is not enabled` };
  const recorded = await recordWithdrawOutcome(context, withdrawal, result);
  if (recorded.status !== 'PROCESSING') return;
  const { rows } = await context.pool.query<{ query_count: number }>('update withdrawals set query_count = query_count + 1, updated_at = now() where withdraw_no = $1 returning query_count', [withdrawNo]);
  const delay = context.config.compensationRetrySeconds[rows[0]!.query_count];
  if (delay !== undefined) {
    await enqueue(context.pool, 'fund.withdraw.query', { withdraw_no: withdrawNo }, { runAt: addSeconds(now(), delay), jobKey: withdrawJobKey(withdrawNo) });
    return;
  }
  await context.pool.query(
    `insert into discrepancies (kind, record_no, amount_minor, currency, detail) values ('WITHDRAW_UNRESOLVED', $1, $2, $3, $4) on conflict (kind, record_no) do nothing`,
    [withdrawNo, withdrawal.amount_minor, withdrawal.currency, `the channel gave no final answer about withdrawal ${withdrawNo}; the amount stays frozen`],
  );
}

/** Withdrawals still processing that nobody is querying (the process died after the hold): for the sweep. */
export async function listStaleWithdrawals(client: Queryable, staleBefore: Date, maxQueries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ withdraw_no: string }>(
    `select withdraw_no from withdrawals where status = 'PROCESSING' and updated_at < $1 and query_count < $2
       and not exists (select 1 from graphile_worker.jobs j where j.key = 'fund.withdraw.query:' || withdraw_no)
     order by updated_at limit $3`,
    [staleBefore, maxQueries, limit],
  );
  return rows.map((row) => row.withdraw_no);
}
