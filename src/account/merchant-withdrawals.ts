/**
 * Merchants' withdrawals (商户提现) of their settlement account (the ledger's merchantPending) to their own
 * bank card or third-party account, kept in merchant_withdrawals apart from users' withdrawals as seed 001
 * advises. The order is a user withdrawal's: one transaction that locks the merchant (real name verified,
 * not frozen) and every shard of its settlement account, checks the balance and the daily limit, writes
 * the row and holds the amount (merchantPending -> merchantWithdrawing); then the shared payout flow of
 * withdrawal-books.ts: the channel OUTSIDE any transaction, success to the channel's clearing account,
 * decline back to the settlement account, unknown queried by fund.withdraw.query.
 */
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { merchantPending, merchantWithdrawing } from '../ledger/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import { formatWallClock } from '../shared/time.js';
import { lockMerchantAvailable } from './merchant-accounts.js';
import { holdEntries } from './postings.js';
import { formatUnits } from './units.js';
import {
  assertWithinDailyLimit, commonFields, findInBook, findInBookByNo, maskPayee, payOut, validatePayoutRequest, earlierWithdrawal, type PayoutRequest, type WithdrawalBase, type WithdrawalBook,
} from './withdrawal-books.js';

export interface MerchantWithdrawalRow extends WithdrawalBase {
  merchant_id: string;
}

export interface MerchantWithdrawInput extends PayoutRequest {
  remark?: string | undefined;
  notify_url?: string | undefined;
}

const holdAccounts = (merchantId: string, currency: string) => ({ available: merchantPending(merchantId, currency), frozen: merchantWithdrawing(merchantId, currency) });

/** Merchants' withdrawals: the hold sits in the merchant's withdrawing account. */
export const merchantWithdrawals: WithdrawalBook<MerchantWithdrawalRow> = {
  name: 'MERCHANT',
  table: 'merchant_withdrawals',
  postingKinds: { paid: 'MERCHANT_WITHDRAW', released: 'MERCHANT_WITHDRAW_RELEASE' },
  discrepancyKind: 'MERCHANT_WITHDRAW_UNRESOLVED',
  event: (row) => ({ type: 'merchant', id: row.merchant_id, prefix: 'merchant.' }),
  held: async (_client, row) => holdAccounts(row.merchant_id, row.currency),
  async notify(context, client, row) {
    await enqueueNotification(client, {
      appId: row.app_id, notifyType: 'merchant_withdraw_status_sync', tradeNo: null, refundNo: null, url: row.notify_url,
      fields: merchantWithdrawalFields(context, row),
    });
  },
};

/** The merchant withdrawal as the gateway, notifications and the admin API present it. */
export function merchantWithdrawalFields(context: Context, withdrawal: MerchantWithdrawalRow): Record<string, string | undefined> {
  return { merchant_id: withdrawal.merchant_id, ...commonFields(context, withdrawal) };
}

export async function findMerchantWithdrawal(client: Queryable, appId: string, outBizNo: string): Promise<MerchantWithdrawalRow | undefined> {
  return findInBook(client, merchantWithdrawals, appId, outBizNo);
}

/**
 * The merchant's status and real-name verification, its row locked FOR SHARE so that freezing the merchant
 * waits for this withdrawal's transaction (and is seen by the next one) instead of slipping between.
 */
async function lockMerchant(client: Queryable, merchantId: string): Promise<{ status: string; verified_at: Date | null }> {
  const { rows } = await client.query<{ status: string; verified_at: Date | null }>('select status, verified_at from merchants where merchant_id = $1 for share', [merchantId]);
  return rows[0]!;
}

/** What the merchant has withdrawn (or is withdrawing) in the currency on this business day, from any of its apps. */
async function merchantWithdrawnToday(client: Queryable, merchantId: string, currency: string, businessDate: string): Promise<bigint> {
  const { rows } = await client.query<{ total: bigint }>(
    `select coalesce(sum(amount_minor), 0)::bigint as total from merchant_withdrawals
     where merchant_id = $1 and currency = $2 and business_date = $3 and status <> 'FAILED'`,
    [merchantId, currency, businessDate],
  );
  return rows[0]!.total;
}

/** tongbao.fund.merchant.withdraw. Idempotent on out_biz_no: a repeat answers with the withdrawal as it stands. */
export async function merchantWithdraw(context: Context, app: GatewayAppRow, input: MerchantWithdrawInput, commonNotifyUrl: string | null): Promise<MerchantWithdrawalRow> {
  const valid = validatePayoutRequest(context, input);
  const earlier = await earlierWithdrawal(context, merchantWithdrawals, app.app_id, input, valid);
  if (earlier) return earlier;
  const { currency, amountMinor, channel } = valid;

  const merchantId = app.merchant_id;
  const started = await withTransaction(context.pool, async (client) => {
    const merchant = await lockMerchant(client, merchantId);
    if (merchant.status !== 'NORMAL') fail(errors.merchantFrozen, `merchant ${merchantId} is ${merchant.status}; nothing was held`);
    if (merchant.verified_at === null) fail(errors.realNameRequired, `merchant ${merchantId} has no verified real name; withdrawals need one`);
    const availableMinor = await lockMerchantAvailable(context, client, merchantId, currency);
    if (availableMinor < amountMinor) {
      fail(errors.balanceNotEnough, `the merchant's settlement account has ${formatUnits(availableMinor, currency)} ${currency}, ${formatUnits(amountMinor, currency)} asked`);
    }
    const businessDate = formatWallClock(now(), context.config.TONGBAO_TIMEZONE).slice(0, 10);
    assertWithinDailyLimit(context.config.TONGBAO_MERCHANT_WITHDRAW_DAILY_LIMIT, currency, await merchantWithdrawnToday(client, merchantId, currency, businessDate), amountMinor);
    const { rows } = await client.query<MerchantWithdrawalRow>(
      `insert into merchant_withdrawals (withdraw_no, app_id, out_biz_no, merchant_id, currency, amount_minor, payee_type, payee_identity_masked,
                                         payee_name, remark, channel, status, business_date, notify_url)
       values ('MW' || next_business_no(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'PROCESSING', $11, $12)
       on conflict (app_id, out_biz_no) do nothing
       returning *, to_char(business_date, 'YYYY-MM-DD') as business_date`,
      [app.app_id, input.out_biz_no, merchantId, currency, amountMinor, input.payee_type, maskPayee(input.payee_identity),
        input.payee_name ?? null, input.remark ?? null, channel.name, businessDate, input.notify_url ?? commonNotifyUrl ?? app.notify_url],
    );
    const withdrawal = rows[0];
    if (!withdrawal) return undefined;
    await context.ledger.post(client, { kind: 'MERCHANT_WITHDRAW_HOLD', reference: withdrawal.withdraw_no, currency, entries: holdEntries(holdAccounts(merchantId, currency), amountMinor) });
    await recordEvent(client, 'merchant', merchantId, 'merchant.withdraw_started', { withdraw_no: withdrawal.withdraw_no, amount_minor: amountMinor, currency });
    return withdrawal;
  });
  return payOut(context, merchantWithdrawals, app.app_id, valid, started, input);
}

export interface MerchantWithdrawalFilter {
  merchantId?: string | undefined;
  appId?: string | undefined;
  status?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  offset: number;
}

/** For operators: newest first, filtered by merchant, app, status and creation time. */
export async function listMerchantWithdrawals(client: Queryable, filter: MerchantWithdrawalFilter): Promise<MerchantWithdrawalRow[]> {
  const { rows } = await client.query<MerchantWithdrawalRow>(
    `select *, to_char(business_date, 'YYYY-MM-DD') as business_date from merchant_withdrawals
     where ($1::text is null or merchant_id = $1) and ($2::text is null or app_id = $2) and ($3::text is null or status = $3)
       and ($4::timestamptz is null or created_at >= $4) and ($5::timestamptz is null or created_at < $5)
     order by created_at desc, withdraw_no desc limit $6 offset $7`,
    [filter.merchantId ?? null, filter.appId ?? null, filter.status ?? null, filter.from ?? null, filter.to ?? null, filter.limit, filter.offset],
  );
  return rows;
}

export async function findMerchantWithdrawalByNo(client: Queryable, withdrawNo: string): Promise<MerchantWithdrawalRow | undefined> {
  return findInBookByNo(client, merchantWithdrawals, withdrawNo);
}
