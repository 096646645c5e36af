import type { Queryable } from '../db/pool.js';
import { jobKeyPrefixes } from './job-keys.js';

export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';
export type TradeType = 'INSTANT' | 'ESCROW';
export type AttemptStatus = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
export type RefundStatus = 'REFUND_PROCESSING' | 'REFUND_SUCCESS' | 'REFUND_FAILED';

export interface TradeRow {
  trade_no: string;
  app_id: string;
  merchant_id: string;
  out_trade_no: string;
  status: TradeStatus;
  currency: string;
  total_amount_minor: bigint;
  paid_amount_minor: bigint;
  refund_reserved_minor: bigint;
  refunded_amount_minor: bigint;
  trade_type: TradeType;
  /** The part of the payment held in the platform escrow account (0 for an instant trade). */
  escrow_amount_minor: bigint;
  settled_amount_minor: bigint;
  /** Escrow taken by refunds in flight or done; escrow_refunded_minor is the part of it that succeeded. */
  escrow_refund_reserved_minor: bigint;
  escrow_refunded_minor: bigint;
  /** The sum of the payment's profit-sharing splits (instant trades only). */
  royalty_amount_minor: bigint;
  escrow_settle_by: Date | null;
  buyer_confirmed_at: Date | null;
  /**
   * Paid, and no escrowed money is left to settle (a generated column; always true for a paid instant
   * trade). With the refund window, this decides when a trade becomes TRADE_FINISHED.
   */
  fully_settled: boolean;
  subject: string;
  body: string | null;
  notify_url: string | null;
  passback_params: string | null;
  channel: string | null;
  channel_trade_no: string | null;
  paid_attempt_no: string | null;
  expires_at: Date;
  paid_at: Date | null;
  /** Refunds are accepted until then (set at payment from the merchant's refund window). */
  refund_deadline: Date | null;
  /** PAY: an ordinary trade; RECHARGE: a top-up of recharge_account_no by recharge_units (money or coins). */
  purpose: 'PAY' | 'RECHARGE';
  recharge_account_no: string | null;
  recharge_units: bigint | null;
  closed_at: Date | null;
  close_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AttemptRow {
  attempt_no: string;
  trade_no: string;
  channel: string;
  /** The fee the route promised for this attempt, in the attempt's currency; null when not routed (a capture). */
  fee_minor: bigint | null;
  amount_minor: bigint;
  currency: string;
  status: AttemptStatus;
  channel_trade_no: string | null;
  failure_code: string | null;
  failure_message: string | null;
  query_count: number;
  created_at: Date;
  finished_at: Date | null;
}

export interface RefundRow {
  refund_no: string;
  trade_no: string;
  app_id: string;
  out_request_no: string;
  /** MERCHANT: tongbao.trade.refund; REVERSAL: returning a late payment; CANCEL: tongbao.trade.cancel of a paid trade. */
  kind: 'MERCHANT' | 'REVERSAL' | 'CANCEL';
  attempt_no: string;
  channel: string;
  amount_minor: bigint;
  /** The part taken back out of escrow; the rest comes out of the merchant's account. */
  from_escrow_minor: bigint;
  currency: string;
  reason: string | null;
  status: RefundStatus;
  channel_refund_no: string | null;
  failure_code: string | null;
  failure_message: string | null;
  query_count: number;
  created_at: Date;
  succeeded_at: Date | null;
}

export interface NewTrade {
  appId: string;
  merchantId: string;
  outTradeNo: string;
  currency: string;
  totalAmountMinor: bigint;
  tradeType: TradeType;
  escrowAmountMinor: bigint;
  royaltyAmountMinor: bigint;
  subject: string;
  body: string | null;
  notifyUrl: string | null;
  passbackParams: string | null;
  expiresAt: Date;
}

/** Inserts the trade unless (app_id, out_trade_no) exists; returns undefined when it already did. */
export async function insertTrade(client: Queryable, trade: NewTrade): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `insert into trades (trade_no, app_id, merchant_id, out_trade_no, status, currency, total_amount_minor, trade_type, escrow_amount_minor,
                         royalty_amount_minor, subject, body, notify_url, passback_params, expires_at)
     values (next_business_no(), $1, $2, $3, 'WAIT_BUYER_PAY', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (app_id, out_trade_no) do nothing
     returning *`,
    [trade.appId, trade.merchantId, trade.outTradeNo, trade.currency, trade.totalAmountMinor, trade.tradeType, trade.escrowAmountMinor,
      trade.royaltyAmountMinor, trade.subject, trade.body, trade.notifyUrl, trade.passbackParams, trade.expiresAt],
  );
  return rows[0];
}

/** Makes a trade just inserted in this transaction a recharge of the account. */
export async function setRechargeTarget(client: Queryable, tradeNo: string, accountNo: string, units: bigint): Promise<TradeRow> {
  const { rows } = await client.query<TradeRow>(
    "update trades set purpose = 'RECHARGE', recharge_account_no = $2, recharge_units = $3 where trade_no = $1 returning *",
    [tradeNo, accountNo, units],
  );
  return rows[0]!;
}

export interface TradeLookup {
  tradeNo?: string | undefined;
  outTradeNo?: string | undefined;
}

/** Finds an app's trade by trade_no or out_trade_no; a trade of another app is never found. */
export async function findTrade(client: Queryable, appId: string, lookup: TradeLookup, lock = false): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `select * from trades where app_id = $1 and ($2::text is null or trade_no = $2) and ($3::text is null or out_trade_no = $3)
     ${lock ? 'for update' : ''}`,
    [appId, lookup.tradeNo ?? null, lookup.outTradeNo ?? null],
  );
  return rows[0];
}

export async function findTradeByNo(client: Queryable, tradeNo: string, lock = false): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(`select * from trades where trade_no = $1 ${lock ? 'for update' : ''}`, [tradeNo]);
  return rows[0];
}

export async function insertAttempt(client: Queryable, tradeNo: string, channel: string, amountMinor: bigint, currency: string, feeMinor: bigint | null = null): Promise<AttemptRow> {
  const { rows } = await client.query<AttemptRow>(
    `insert into pay_attempts (attempt_no, trade_no, channel, amount_minor, currency, status, fee_minor)
     values (next_business_no(), $1, $2, $3, $4, 'PROCESSING', $5) returning *`,
    [tradeNo, channel, amountMinor, currency, feeMinor],
  );
  return rows[0]!;
}

/** An attempt that succeeded before Tongbao recorded it, under a number given by the caller (a pre-authorization completion). */
export async function insertSucceededAttempt(
  client: Queryable,
  attempt: { attemptNo: string; tradeNo: string; channel: string; amountMinor: bigint; currency: string; channelTradeNo: string },
): Promise<AttemptRow> {
  const { rows } = await client.query<AttemptRow>(
    `insert into pay_attempts (attempt_no, trade_no, channel, amount_minor, currency, status, channel_trade_no, finished_at)
     values ($1, $2, $3, $4, $5, 'SUCCEEDED', $6, now()) returning *`,
    [attempt.attemptNo, attempt.tradeNo, attempt.channel, attempt.amountMinor, attempt.currency, attempt.channelTradeNo],
  );
  return rows[0]!;
}

export async function findAttempt(client: Queryable, attemptNo: string): Promise<AttemptRow | undefined> {
  const { rows } = await client.query<AttemptRow>('select * from pay_attempts where attempt_no = $1', [attemptNo]);
  return rows[0];
}

export async function findInFlightAttempt(client: Queryable, tradeNo: string): Promise<AttemptRow | undefined> {
  const { rows } = await client.query<AttemptRow>("select * from pay_attempts where trade_no = $1 and status = 'PROCESSING'", [tradeNo]);
  return rows[0];
}

export async function listAttempts(client: Queryable, tradeNo: string): Promise<AttemptRow[]> {
  const { rows } = await client.query<AttemptRow>('select * from pay_attempts where trade_no = $1 order by created_at, attempt_no', [tradeNo]);
  return rows;
}

/** Guarded: only a PROCESSING attempt can finish, so a result recorded twice is applied once. */
export async function finishAttempt(
  client: Queryable,
  attemptNo: string,
  status: 'SUCCEEDED' | 'FAILED',
  details: { channelTradeNo: string | null; failureCode: string | null; failureMessage: string | null },
): Promise<AttemptRow | undefined> {
  const { rows } = await client.query<AttemptRow>(
    `update pay_attempts set status = $2, channel_trade_no = coalesce($3, channel_trade_no), failure_code = $4, failure_message = $5,
            finished_at = now(), updated_at = now()
     where attempt_no = $1 and status = 'PROCESSING' returning *`,
    [attemptNo, status, details.channelTradeNo, details.failureCode, details.failureMessage],
  );
  return rows[0];
}

export async function noteAttemptPending(client: Queryable, attemptNo: string, channelTradeNo: string | null): Promise<void> {
  await client.query(
    "update pay_attempts set channel_trade_no = coalesce($2, channel_trade_no), updated_at = now() where attempt_no = $1 and status = 'PROCESSING'",
    [attemptNo, channelTradeNo],
  );
}

export async function countAttemptQuery(client: Queryable, attemptNo: string): Promise<number> {
  const { rows } = await client.query<{ query_count: number }>(
    'update pay_attempts set query_count = query_count + 1, updated_at = now() where attempt_no = $1 returning query_count',
    [attemptNo],
  );
  return rows[0]?.query_count ?? 0;
}

/** Marks the attempt succeeded unless it already was (a failed attempt can turn out paid); undefined when already succeeded. */
export async function markAttemptSucceeded(client: Queryable, attemptNo: string, channelTradeNo: string): Promise<AttemptRow | undefined> {
  const { rows } = await client.query<AttemptRow>(
    `update pay_attempts set status = 'SUCCEEDED', channel_trade_no = $2, failure_code = null, failure_message = null, finished_at = now(), updated_at = now()
     where attempt_no = $1 and status <> 'SUCCEEDED' returning *`,
    [attemptNo, channelTradeNo],
  );
  return rows[0];
}

/** Guarded: WAIT_BUYER_PAY -> TRADE_SUCCESS; undefined when the trade was no longer waiting. */
export async function markTradePaid(client: Queryable, attempt: AttemptRow, channelTradeNo: string, paidAt: Date, defaultRefundWindowDays: number): Promise<TradeRow | undefined> {
  // The refund deadline comes from the merchant's own window, read in this statement (no extra round trip).
  const { rows } = await client.query<TradeRow>(
    `update trades set status = 'TRADE_SUCCESS', paid_amount_minor = $2, channel = $3, channel_trade_no = $4, paid_attempt_no = $5,
            paid_at = $6, updated_at = now(),
            refund_deadline = $6::timestamptz + make_interval(days => coalesce((select m.refund_window_days from merchants m where m.merchant_id = trades.merchant_id), $7))
     where trade_no = $1 and status = 'WAIT_BUYER_PAY' returning *`,
    [attempt.trade_no, attempt.amount_minor, attempt.channel, channelTradeNo, attempt.attempt_no, paidAt, defaultRefundWindowDays],
  );
  return rows[0];
}

/** Guarded: WAIT_BUYER_PAY -> TRADE_CLOSED. */
export async function markTradeClosed(client: Queryable, tradeNo: string, reason: string): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set status = 'TRADE_CLOSED', closed_at = now(), close_reason = $2, updated_at = now()
     where trade_no = $1 and status = 'WAIT_BUYER_PAY' returning *`,
    [tradeNo, reason],
  );
  return rows[0];
}

/**
 * Reserves a refund amount on a paid trade, refusing anything above what remains refundable, and the part
 * of it funded from escrow, refusing anything above the escrow not yet settled. Concurrent refunds and
 * settlements serialize on the trade row, so their sums can never pass the paid or the escrowed amount.
 */
export async function reserveRefund(client: Queryable, tradeNo: string, amountMinor: bigint, fromEscrowMinor: bigint): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set refund_reserved_minor = refund_reserved_minor + $2, escrow_refund_reserved_minor = escrow_refund_reserved_minor + $3,
            updated_at = now()
     where trade_no = $1 and status = 'TRADE_SUCCESS' and paid_amount_minor - refund_reserved_minor >= $2
       and escrow_amount_minor - settled_amount_minor - escrow_refund_reserved_minor >= $3 returning *`,
    [tradeNo, amountMinor, fromEscrowMinor],
  );
  return rows[0];
}

/** Gives back what a failed refund reserved, its escrow part included (that part can then be settled again). */
export async function releaseRefund(client: Queryable, refund: RefundRow): Promise<void> {
  await releaseReservation(client, refund.trade_no, refund.amount_minor, refund.from_escrow_minor);
}

/** Gives back a reservation made by reserveRefund. */
export async function releaseReservation(client: Queryable, tradeNo: string, amountMinor: bigint, fromEscrowMinor: bigint): Promise<void> {
  await client.query(
    `update trades set refund_reserved_minor = refund_reserved_minor - $2, escrow_refund_reserved_minor = escrow_refund_reserved_minor - $3,
            updated_at = now() where trade_no = $1`,
    [tradeNo, amountMinor, fromEscrowMinor],
  );
}

/**
 * Records a refunded amount and its escrow part; a trade refunded in full becomes TRADE_CLOSED, with reason
 * CANCELLED when the refund is a cancel's reversal, else FULL_REFUND.
 */
export async function completeRefundOnTrade(client: Queryable, refund: RefundRow): Promise<TradeRow> {
  const { rows } = await client.query<TradeRow>(
    `update trades set refunded_amount_minor = refunded_amount_minor + $2, escrow_refunded_minor = escrow_refunded_minor + $3,
            status = case when refunded_amount_minor + $2 = paid_amount_minor then 'TRADE_CLOSED' else status end,
            closed_at = case when refunded_amount_minor + $2 = paid_amount_minor then now() else closed_at end,
            close_reason = case when refunded_amount_minor + $2 = paid_amount_minor then $4 else close_reason end,
            updated_at = now()
     where trade_no = $1 returning *`,
    [refund.trade_no, refund.amount_minor, refund.from_escrow_minor, refund.kind === 'CANCEL' ? 'CANCELLED' : 'FULL_REFUND'],
  );
  return rows[0]!;
}

/**
 * Changes the amount of a trade awaiting payment. The caller holds the trade row locked and has checked,
 * in a statement after taking the lock, that no attempt ever started.
 */
export async function updateTradeAmount(client: Queryable, tradeNo: string, amountMinor: bigint): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    "update trades set total_amount_minor = $2, updated_at = now() where trade_no = $1 and status = 'WAIT_BUYER_PAY' returning *",
    [tradeNo, amountMinor],
  );
  return rows[0];
}

export async function countAttempts(client: Queryable, tradeNo: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>('select count(*)::int as count from pay_attempts where trade_no = $1', [tradeNo]);
  return rows[0]!.count;
}

/**
 * Closes a paid trade whose whole payment went back to the payer other than by a refund (a pre-authorization
 * completion cancelled): guarded on the trade being paid with exactly that amount reserved and nothing refunded.
 */
export async function closeReversedTrade(client: Queryable, tradeNo: string, amountMinor: bigint, reason: string): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set refunded_amount_minor = $2, status = 'TRADE_CLOSED', closed_at = now(), close_reason = $3, updated_at = now()
     where trade_no = $1 and status = 'TRADE_SUCCESS' and paid_amount_minor = $2 and refund_reserved_minor = $2 and refunded_amount_minor = 0
     returning *`,
    [tradeNo, amountMinor, reason],
  );
  return rows[0];
}

export interface NewRefund {
  tradeNo: string;
  appId: string;
  outRequestNo: string;
  kind: RefundRow['kind'];
  attemptNo: string;
  channel: string;
  amountMinor: bigint;
  fromEscrowMinor: bigint;
  currency: string;
  reason: string | null;
}

export async function insertRefund(client: Queryable, refund: NewRefund): Promise<RefundRow> {
  const { rows } = await client.query<RefundRow>(
    `insert into refunds (refund_no, trade_no, app_id, out_request_no, kind, attempt_no, channel, amount_minor, from_escrow_minor, currency, reason, status)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'REFUND_PROCESSING') returning *`,
    [refund.tradeNo, refund.appId, refund.outRequestNo, refund.kind, refund.attemptNo, refund.channel, refund.amountMinor, refund.fromEscrowMinor, refund.currency, refund.reason],
  );
  return rows[0]!;
}

export async function findRefund(client: Queryable, tradeNo: string, outRequestNo: string): Promise<RefundRow | undefined> {
  const { rows } = await client.query<RefundRow>('select * from refunds where trade_no = $1 and out_request_no = $2', [tradeNo, outRequestNo]);
  return rows[0];
}

export async function findRefundByNo(client: Queryable, refundNo: string): Promise<RefundRow | undefined> {
  const { rows } = await client.query<RefundRow>('select * from refunds where refund_no = $1', [refundNo]);
  return rows[0];
}

export async function listRefunds(client: Queryable, tradeNo: string): Promise<RefundRow[]> {
  const { rows } = await client.query<RefundRow>('select * from refunds where trade_no = $1 order by created_at, refund_no', [tradeNo]);
  return rows;
}

/** Guarded: only a processing refund can finish. */
export async function finishRefund(
  client: Queryable,
  refundNo: string,
  status: 'REFUND_SUCCESS' | 'REFUND_FAILED',
  details: { channelRefundNo: string | null; failureCode: string | null; failureMessage: string | null },
): Promise<RefundRow | undefined> {
  const { rows } = await client.query<RefundRow>(
    `update refunds set status = $2, channel_refund_no = coalesce($3, channel_refund_no), failure_code = $4, failure_message = $5,
            succeeded_at = case when $2 = 'REFUND_SUCCESS' then now() else null end, updated_at = now()
     where refund_no = $1 and status = 'REFUND_PROCESSING' returning *`,
    [refundNo, status, details.channelRefundNo, details.failureCode, details.failureMessage],
  );
  return rows[0];
}

export async function noteRefundPending(client: Queryable, refundNo: string, channelRefundNo: string): Promise<void> {
  await client.query(
    "update refunds set channel_refund_no = $2, updated_at = now() where refund_no = $1 and status = 'REFUND_PROCESSING'",
    [refundNo, channelRefundNo],
  );
}

export async function countRefundQuery(client: Queryable, refundNo: string): Promise<number> {
  const { rows } = await client.query<{ query_count: number }>(
    'update refunds set query_count = query_count + 1, updated_at = now() where refund_no = $1 returning query_count',
    [refundNo],
  );
  return rows[0]?.query_count ?? 0;
}

export async function insertDiscrepancy(
  client: Queryable,
  /** tradeNo is null for records that belong to no trade, such as a pre-authorization's freeze. */
  discrepancy: { kind: string; tradeNo: string | null; recordNo: string; amountMinor: bigint; currency: string; detail: string },
): Promise<boolean> {
  const { rowCount } = await client.query(
    `insert into discrepancies (kind, trade_no, record_no, amount_minor, currency, detail) values ($1, $2, $3, $4, $5, $6)
     on conflict (kind, record_no) do nothing`,
    [discrepancy.kind, discrepancy.tradeNo, discrepancy.recordNo, discrepancy.amountMinor, discrepancy.currency, discrepancy.detail],
  );
  return rowCount === 1;
}

export async function listDiscrepancies(client: Queryable, status: 'OPEN' | 'RESOLVED' | undefined, limit: number, offset: number) {
  const { rows } = await client.query(
    'select * from discrepancies where ($1::text is null or status = $1) order by discrepancy_id desc limit $2 offset $3',
    [status ?? null, limit, offset],
  );
  return rows;
}

/**
 * Waiting orders past their deadline with no expiry job, oldest first, for the periodic sweep. The sweep
 * queries below skip records that already have their job (graphile-worker's public jobs view, by job key),
 * so records waiting for a later query cannot crowd out the ones a crash left behind.
 */
export async function listOverdueTrades(client: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ trade_no: string }>(
    `select trade_no from trades t where status = 'WAIT_BUYER_PAY' and expires_at <= $1
       and not exists (select 1 from graphile_worker.jobs j where j.key = $3 || t.trade_no)
     order by expires_at limit $2`,
    [now, limit, jobKeyPrefixes.expire],
  );
  return rows.map((row) => row.trade_no);
}

/** Attempts still at the channel, untouched since `before`, whose compensation schedule is not used up. */
export async function listStaleAttempts(client: Queryable, before: Date, maxQueries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ attempt_no: string }>(
    `select attempt_no from pay_attempts a where status = 'PROCESSING' and updated_at < $1 and query_count < $2
       and not exists (select 1 from graphile_worker.jobs j where j.key = $4 || a.attempt_no)
     order by updated_at limit $3`,
    [before, maxQueries, limit, jobKeyPrefixes.payQuery],
  );
  return rows.map((row) => row.attempt_no);
}

export async function listStaleRefunds(client: Queryable, before: Date, maxQueries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ refund_no: string }>(
    `select refund_no from refunds r where status = 'REFUND_PROCESSING' and updated_at < $1 and query_count < $2
       and not exists (select 1 from graphile_worker.jobs j where j.key = $4 || r.refund_no)
     order by updated_at limit $3`,
    [before, maxQueries, limit, jobKeyPrefixes.refundQuery],
  );
  return rows.map((row) => row.refund_no);
}

/**
 * Paid trades past their refund deadline with nothing left to settle and no refund under way, for the sweep:
 * they become TRADE_FINISHED.
 */
export async function listTradesToFinish(client: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ trade_no: string }>(
    `select trade_no from trades where status = 'TRADE_SUCCESS' and refund_deadline <= $1 and fully_settled
       and refund_reserved_minor = refunded_amount_minor
     order by refund_deadline limit $2`,
    [now, limit],
  );
  return rows.map((row) => row.trade_no);
}

/** Guarded: TRADE_SUCCESS -> TRADE_FINISHED, re-checking every condition on the locked row. */
export async function markTradeFinished(client: Queryable, tradeNo: string, now: Date): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set status = 'TRADE_FINISHED', updated_at = now()
     where trade_no = $1 and status = 'TRADE_SUCCESS' and refund_deadline <= $2 and fully_settled and refund_reserved_minor = refunded_amount_minor
     returning *`,
    [tradeNo, now],
  );
  return rows[0];
}
