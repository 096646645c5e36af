/**
 * What users' withdrawals (table withdrawals) and merchants' withdrawals (table merchant_withdrawals) share
 * once the amount is held: the channel's payout OUTSIDE any transaction, the guarded PROCESSING -> final
 * transition with its ledger posting, the compensation queries and the sweep. Each kind of withdrawal is a
 * book that says which table it lives in, which ledger accounts its hold moved between and how it tells the
 * app; the flows here are written once for both.
 */
import { addSeconds, now } from '../clock.js';
import type { GuardedChannel } from '../channels/guard.js';
import type { ChannelOperationQueryResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent, type AggregateType } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { channelClearing, type AccountSpec } from '../ledger/index.js';
import { currencyExponent, isSupportedCurrency } from '../shared/money.js';
import { formatWallClock } from '../shared/time.js';
import { releaseEntries } from './postings.js';
import { formatUnits, parseUnits } from './units.js';

export type PayeeType = 'BANK_CARD' | 'ALIPAY_ACCOUNT' | 'WECHAT_OPENID';
export type BookName = 'USER' | 'MERCHANT';

/** The columns both withdrawal tables have. */
export interface WithdrawalBase {
  withdraw_no: string;
  app_id: string;
  out_biz_no: string;
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

/** Where the payout goes, as the request gave it: the full identity reaches the channel only. */
export interface Payee {
  payee_type: PayeeType;
  payee_identity: string;
  payee_name?: string | undefined;
}

/** What every withdrawal request says about the money and where it goes. */
export interface PayoutRequest extends Payee {
  out_biz_no: string;
  amount: string | number;
  currency?: string | undefined;
  channel?: string | undefined;
}

export interface ValidPayoutRequest {
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly channel: GuardedChannel;
}

export interface WithdrawalBook<Row extends WithdrawalBase> {
  readonly name: BookName;
  /** A constant table name, never user input. */
  readonly table: 'withdrawals' | 'merchant_withdrawals';
  /** The ledger posting kinds of the hold's two ends: paid out, or released. */
  readonly postingKinds: { readonly paid: string; readonly released: string };
  readonly discrepancyKind: string;
  /** The event stream the withdrawal's steps are recorded on, and the event name prefix. */
  event(row: Row): { readonly type: AggregateType; readonly id: string; readonly prefix: string };
  /** The two ledger accounts the hold moved between: available -> frozen. */
  held(client: Queryable, row: Row): Promise<{ available: AccountSpec; frozen: AccountSpec }>;
  /** Enqueues the app's notification of a final status, in the caller's transaction. */
  notify(context: Context, client: Queryable, row: Row): Promise<void>;
}

export const withdrawJobKey = (withdrawNo: string) => `fund.withdraw.query:${withdrawNo}`;

const selectRow = "*, to_char(business_date, 'YYYY-MM-DD') as business_date";

/** The full card number or account goes to the channel only; the database keeps its last four. */
export function maskPayee(identity: string): string {
  return identity.length <= 4 ? '*'.repeat(identity.length) : `${'*'.repeat(Math.min(identity.length - 4, 12))}${identity.slice(-4)}`;
}

export function payoutChannel(context: Context, name: string, currency: string): GuardedChannel {
  const channel = context.channels.get(name);
  if (!channel?.payouts) fail(errors.channelNotSupported, `channel ${name} is not enabled or cannot pay out`);
  if (!channel.capabilities.currencies.includes(currency)) fail(errors.channelNotSupported, `channel ${name} does not pay out ${currency}`);
  if (!channel.available()) fail(errors.channelUnavailable, `channel ${name} is out of service (circuit breaker open); nothing was held`);
  return channel;
}

/** The checks a withdrawal request passes before anything is read or locked: currency, channel, amount. */
export function validatePayoutRequest(context: Context, input: PayoutRequest): ValidPayoutRequest {
  const currency = input.currency ?? 'CNY';
  if (!isSupportedCurrency(currency)) fail(errors.currencyNotSupported, `currency ${currency} is not supported`);
  const channel = payoutChannel(context, input.channel ?? 'sandbox', currency);
  const parsed = parseUnits(input.amount, currency);
  if (!parsed.ok) fail(errors.invalidAmount, `amount ${parsed.reason}`);
  return { currency, amountMinor: parsed.amountMinor, channel };
}

/** The withdrawal this app already made under the request's out_biz_no, when it is the same request. */
export async function earlierWithdrawal<Row extends WithdrawalBase>(context: Context, book: WithdrawalBook<Row>, appId: string, input: PayoutRequest, valid: ValidPayoutRequest): Promise<Row | undefined> {
  const earlier = await findInBook(context.pool, book, appId, input.out_biz_no);
  return earlier && sameWithdrawal(earlier, valid.amountMinor, valid.currency, input);
}

/**
 * A daily limit setting is in major units of whatever currency is withdrawn ("50000.00"), like the app's
 * order limit; it is read in thousandths so the currency's exponent (0, 2 or 3) cannot shift it.
 */
export function dailyLimitMinor(limit: string, currency: string): bigint {
  const [whole, fraction = ''] = limit.split('.');
  const thousandths = BigInt(whole!) * 1000n + BigInt(fraction.padEnd(3, '0'));
  return thousandths / 10n ** BigInt(3 - currencyExponent(currency));
}

/** Refuses an amount that would take what was withdrawn today past the limit. */
export function assertWithinDailyLimit(limit: string, currency: string, withdrawnTodayMinor: bigint, amountMinor: bigint): void {
  const limitMinor = dailyLimitMinor(limit, currency);
  if (withdrawnTodayMinor + amountMinor > limitMinor) {
    fail(errors.withdrawDailyLimitExceeded, `the daily limit is ${formatUnits(limitMinor, currency)} ${currency}; ${formatUnits(withdrawnTodayMinor, currency)} is withdrawn today`);
  }
}

/** A repeated out_biz_no is the same withdrawal only with the same amount, currency and payee. */
export function sameWithdrawal<Row extends WithdrawalBase>(existing: Row, amountMinor: bigint, currency: string, payee: Payee): Row {
  const same = existing.amount_minor === amountMinor && existing.currency === currency && existing.payee_type === payee.payee_type
    && existing.payee_identity_masked === maskPayee(payee.payee_identity);
  if (!same) fail(errors.fundOrderConflict, `out_biz_no ${existing.out_biz_no} was already used for ${formatUnits(existing.amount_minor, existing.currency)} ${existing.currency} to ${existing.payee_identity_masked}`);
  return existing;
}

/** The fields every withdrawal answer and notification carries, whoever withdrew. */
export function commonFields(context: Context, withdrawal: WithdrawalBase): Record<string, string | undefined> {
  const time = (date: Date | null) => (date ? formatWallClock(date, context.config.TONGBAO_TIMEZONE) : undefined);
  return {
    withdraw_no: withdrawal.withdraw_no,
    out_biz_no: withdrawal.out_biz_no,
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

export async function findInBook<Row extends WithdrawalBase>(client: Queryable, book: WithdrawalBook<Row>, appId: string, outBizNo: string): Promise<Row | undefined> {
  const { rows } = await client.query<Row>(`select ${selectRow} from ${book.table} where app_id = $1 and out_biz_no = $2`, [appId, outBizNo]);
  return rows[0];
}

export async function findInBookByNo<Row extends WithdrawalBase>(client: Queryable, book: WithdrawalBook<Row>, withdrawNo: string): Promise<Row | undefined> {
  const { rows } = await client.query<Row>(`select ${selectRow} from ${book.table} where withdraw_no = $1`, [withdrawNo]);
  return rows[0];
}

/**
 * The second half of every withdrawal, after the transaction that wrote the row and held the amount has
 * committed: the channel's payout, its answer recorded, and a compensation query when it is not final.
 * `started` is undefined when a parallel identical request wrote the row first: the answer is then its.
 */
export async function payOut<Row extends WithdrawalBase>(context: Context, book: WithdrawalBook<Row>, appId: string, valid: ValidPayoutRequest, started: Row | undefined, payee: PayoutRequest): Promise<Row> {
  if (!started) return (await earlierWithdrawal(context, book, appId, payee, valid))!;
  const channel = valid.channel;
  const result = await channel.payouts!.payout({
    payoutNo: started.withdraw_no, amountMinor: started.amount_minor, currency: started.currency, remark: started.remark,
    payee: { type: payee.payee_type, identity: payee.payee_identity, ...(payee.payee_name === undefined ? {} : { name: payee.payee_name }) },
  }).catch((error: unknown) => ({ status: 'UNKNOWN' as const, reason: (error as Error).message }));
  const recorded = await recordWithdrawOutcome(context, book, started, result);
  if (recorded.status === 'PROCESSING') {
    await enqueue(context.pool, 'fund.withdraw.query', { withdraw_no: started.withdraw_no, book: book.name }, {
      runAt: addSeconds(now(), context.config.compensationRetrySeconds[0]!), jobKey: withdrawJobKey(started.withdraw_no),
    });
  }
  return recorded;
}

/**
 * Applies a channel's answer about a withdrawal, from any source. The transition PROCESSING -> final is
 * guarded, so an answer applied twice moves money once. Returns the withdrawal as it stands.
 */
export async function recordWithdrawOutcome<Row extends WithdrawalBase>(context: Context, book: WithdrawalBook<Row>, withdrawal: Row, result: ChannelOperationQueryResult): Promise<Row> {
  const log = context.log.child({ withdraw_no: withdrawal.withdraw_no });
  if (result.status === 'SUCCEEDED' && (result.amountMinor !== withdrawal.amount_minor || result.currency !== withdrawal.currency)) {
    log.error({ channel_amount: result.amountMinor.toString() }, 'payout amount mismatch; left processing for operators');
    return withdrawal;
  }
  if (result.status === 'PENDING' || result.status === 'UNKNOWN') {
    if (result.status === 'PENDING' && result.channelRef) {
      await context.pool.query(`update ${book.table} set channel_ref = $2, updated_at = now() where withdraw_no = $1 and status = 'PROCESSING'`, [withdrawal.withdraw_no, result.channelRef]);
    }
    return (await findInBookByNo(context.pool, book, withdrawal.withdraw_no))!;
  }
  const succeeded = result.status === 'SUCCEEDED';
  return withTransaction(context.pool, async (client) => {
    const { rows } = await client.query<Row>(
      `update ${book.table} set status = $2, channel_ref = coalesce($3, channel_ref), failure_code = $4, failure_message = $5, finished_at = now(), updated_at = now()
       where withdraw_no = $1 and status = 'PROCESSING' returning ${selectRow}`,
      [withdrawal.withdraw_no, succeeded ? 'SUCCESS' : 'FAILED', succeeded ? result.channelRef : null,
        succeeded ? null : result.status === 'FAILED' ? result.code : 'NOT_FOUND_AT_CHANNEL',
        succeeded ? null : result.status === 'FAILED' ? result.message : 'the channel has no record of this payout'],
    );
    const finished = rows[0];
    if (!finished) return (await findInBookByNo(client, book, withdrawal.withdraw_no))!;
    const held = await book.held(client, finished);
    // Completions: the withdrawal was accepted while the account allowed it, so a status set since does not stop its end.
    await context.ledger.post(client, succeeded
      ? {
        kind: book.postingKinds.paid, reference: finished.withdraw_no, currency: finished.currency, completion: true,
        entries: [{ account: held.frozen, side: 'DEBIT', amountMinor: finished.amount_minor }, { account: channelClearing(finished.channel, finished.currency), side: 'CREDIT', amountMinor: finished.amount_minor }],
      }
      : { kind: book.postingKinds.released, reference: finished.withdraw_no, currency: finished.currency, completion: true, entries: releaseEntries(held, finished.amount_minor) });
    const event = book.event(finished);
    await recordEvent(client, event.type, event.id, `${event.prefix}${succeeded ? 'withdraw_succeeded' : 'withdraw_failed'}`, { withdraw_no: finished.withdraw_no, code: finished.failure_code });
    await book.notify(context, client, finished);
    log.info({ status: finished.status }, 'withdrawal finished');
    return finished;
  });
}

/** fund.withdraw.query: asks the channel on the compensation schedule; past its end, operators get a discrepancy. */
export async function queryWithdrawal<Row extends WithdrawalBase>(context: Context, book: WithdrawalBook<Row>, withdrawNo: string): Promise<void> {
  const withdrawal = await findInBookByNo(context.pool, book, withdrawNo);
  if (!withdrawal || withdrawal.status !== 'PROCESSING') return;
  const channel = context.channels.get(withdrawal.channel);
  const result: ChannelOperationQueryResult = channel?.payouts ? await channel.payouts.query(withdrawNo) : { status: 'UNKNOWN', reason: `channel ${withdrawal.channel} is not enabled` };
  const recorded = await recordWithdrawOutcome(context, book, withdrawal, result);
  if (recorded.status !== 'PROCESSING') return;
  const { rows } = await context.pool.query<{ query_count: number }>(`update ${book.table} set query_count = query_count + 1, updated_at = now() where withdraw_no = $1 returning query_count`, [withdrawNo]);
  const delay = context.config.compensationRetrySeconds[rows[0]!.query_count];
  if (delay !== undefined) {
    await enqueue(context.pool, 'fund.withdraw.query', { withdraw_no: withdrawNo, book: book.name }, { runAt: addSeconds(now(), delay), jobKey: withdrawJobKey(withdrawNo) });
    return;
  }
  await context.pool.query(
    `insert into discrepancies (kind, record_no, amount_minor, currency, detail) values ($1, $2, $3, $4, $5) on conflict (kind, record_no) do nothing`,
    [book.discrepancyKind, withdrawNo, withdrawal.amount_minor, withdrawal.currency, `the channel gave no final answer about withdrawal ${withdrawNo}; the amount stays held`],
  );
}

/** Withdrawals still processing that nobody is querying (the process died after the hold): for the sweep. */
export async function listStaleWithdrawals(client: Queryable, book: Pick<WithdrawalBook<WithdrawalBase>, 'table'>, staleBefore: Date, maxQueries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ withdraw_no: string }>(
    `select withdraw_no from ${book.table} where status = 'PROCESSING' and updated_at < $1 and query_count < $2
       and not exists (select 1 from graphile_worker.jobs j where j.key = 'fund.withdraw.query:' || withdraw_no)
     order by updated_at limit $3`,
    [staleBefore, maxQueries, limit],
  );
  return rows.map((row) => row.withdraw_no);
}
