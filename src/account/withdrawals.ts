/**
 * Withdrawals (提现/出款) of a user's wallet to a bank card or a third-party account, in the pipeline's order:
 * validate, then one transaction that checks the account under its lock (real name, status, available
 * balance, the daily limit), writes the withdrawal and holds the amount (available -> frozen); then the
 * channel's payout OUTSIDE any transaction; then the result in a new transaction (withdrawal-books.ts, shared
 * with merchants' withdrawals). Success takes the held money out to the channel; failure releases it; an
 * unknown result is queried (fund.withdraw.query) and never assumed failed.
 */
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { userAvailable, userFrozen } from '../ledger/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import { formatWallClock } from '../shared/time.js';
import { holdEntries } from './postings.js';
import * as repository from './repository.js';
import { assertCanDebit, requireUser, requireUserAccount } from './users.js';
import {
  assertWithinDailyLimit, commonFields, findInBook, maskPayee, payOut, validatePayoutRequest, earlierWithdrawal, type PayoutRequest, type WithdrawalBase, type WithdrawalBook,
} from './withdrawal-books.js';

export interface WithdrawalRow extends WithdrawalBase {
  user_id: string;
  account_no: string;
}

export interface WithdrawInput extends PayoutRequest {
  user_id?: string | undefined;
  out_user_id?: string | undefined;
  remark?: string | undefined;
  notify_url?: string | undefined;
}

/** Users' withdrawals: the hold sits in the wallet's frozen part. */
export const userWithdrawals: WithdrawalBook<WithdrawalRow> = {
  name: 'USER',
  table: 'withdrawals',
  postingKinds: { paid: 'WITHDRAW', released: 'WITHDRAW_RELEASE' },
  discrepancyKind: 'WITHDRAW_UNRESOLVED',
  event: (row) => ({ type: 'account', id: row.account_no, prefix: 'account.' }),
  async held(client, row) {
    const account = (await repository.findUserAccountByNo(client, row.account_no))!;
    return { available: userAvailable(account.user_id, account.type, account.currency), frozen: userFrozen(account.user_id, account.type, account.currency) };
  },
  async notify(context, client, row) {
    await enqueueNotification(client, {
      appId: row.app_id, notifyType: 'withdraw_status_sync', tradeNo: null, refundNo: null, url: row.notify_url,
      fields: await withdrawalFields(context, client, row),
    });
  },
};

export async function findWithdrawal(client: Queryable, appId: string, outBizNo: string): Promise<WithdrawalRow | undefined> {
  return findInBook(client, userWithdrawals, appId, outBizNo);
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
  const valid = validatePayoutRequest(context, input);
  const earlier = await earlierWithdrawal(context, userWithdrawals, app.app_id, input, valid);
  if (earlier) return earlier;
  const { currency, amountMinor, channel } = valid;

  const started = await withTransaction(context.pool, async (client) => {
    const user = await requireUser(client, app.app_id, input);
    if (user.verified_at === null) fail(errors.realNameRequired, `user ${user.user_id} has no verified real name; withdrawals need one`);
    const account = await requireUserAccount(context, client, user, 'WALLET', currency, { forUpdate: true });
    assertCanDebit(account, amountMinor);
    const businessDate = formatWallClock(now(), context.config.TONGBAO_TIMEZONE).slice(0, 10);
    assertWithinDailyLimit(context.config.TONGBAO_WITHDRAW_DAILY_LIMIT, currency, await withdrawnToday(client, account.accountNo, businessDate), amountMinor);
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
  return payOut(context, userWithdrawals, app.app_id, valid, started, input);
}

/** The withdrawal as the gateway and notifications present it. */
export async function withdrawalFields(context: Context, client: Queryable, withdrawal: WithdrawalRow): Promise<Record<string, string | undefined>> {
  const user = await repository.findUserById(client, withdrawal.user_id);
  return { user_id: withdrawal.user_id, out_user_id: user?.out_user_id, account_no: withdrawal.account_no, ...commonFields(context, withdrawal) };
}
