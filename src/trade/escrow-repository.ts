import type { Queryable } from '../db/pool.js';
import { jobKeyPrefixes } from './job-keys.js';
import type { TradeRow } from './repository.js';
import type { RoyaltySplit } from './royalty.js';

/** SQL of escrow settlements and profit-sharing splits, one function per query. */

export type SettlementSource = 'MERCHANT' | 'CONFIRM' | 'AUTO';

export interface SettlementRow {
  settle_no: string;
  trade_no: string;
  app_id: string;
  source: SettlementSource;
  out_request_no: string;
  /** As asked; null when the merchant asked for all that remained. */
  requested_amount_minor: bigint | null;
  amount_minor: bigint;
  currency: string;
  status: 'SETTLE_SUCCESS';
  created_at: Date;
  settled_at: Date;
}

export interface NewSettlement {
  tradeNo: string;
  appId: string;
  source: SettlementSource;
  outRequestNo: string;
  requestedAmountMinor: bigint | null;
  amountMinor: bigint;
  currency: string;
}

export async function insertSettlement(client: Queryable, settlement: NewSettlement): Promise<SettlementRow> {
  const { rows } = await client.query<SettlementRow>(
    `insert into settlements (settle_no, trade_no, app_id, source, out_request_no, requested_amount_minor, amount_minor, currency)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, $7) returning *`,
    [settlement.tradeNo, settlement.appId, settlement.source, settlement.outRequestNo, settlement.requestedAmountMinor, settlement.amountMinor, settlement.currency],
  );
  return rows[0]!;
}

export async function findSettlement(client: Queryable, tradeNo: string, outRequestNo: string): Promise<SettlementRow | undefined> {
  const { rows } = await client.query<SettlementRow>('select * from settlements where trade_no = $1 and out_request_no = $2', [tradeNo, outRequestNo]);
  return rows[0];
}

/** The settlement the buyer's confirmation made, if it made one (a trade is confirmed once). */
export async function findConfirmSettlement(client: Queryable, tradeNo: string): Promise<SettlementRow | undefined> {
  const { rows } = await client.query<SettlementRow>("select * from settlements where trade_no = $1 and source = 'CONFIRM'", [tradeNo]);
  return rows[0];
}

export async function listSettlements(client: Queryable, tradeNo: string): Promise<SettlementRow[]> {
  const { rows } = await client.query<SettlementRow>('select * from settlements where trade_no = $1 order by created_at, settle_no', [tradeNo]);
  return rows;
}

/** Writes the splits of a payment (settleNo null) or of a settlement, in the order they were asked. */
export async function insertSplits(client: Queryable, tradeNo: string, settleNo: string | null, splits: readonly RoyaltySplit[], currency: string): Promise<void> {
  if (splits.length === 0) return;
  await client.query(
    `insert into royalty_splits (trade_no, settle_no, position, receiver_type, receiver_merchant_id, amount_minor, currency)
     select $1, $2, position - 1, receiver_type, receiver_merchant_id, amount_minor, $6
     from unnest($3::text[], $4::text[], $5::bigint[]) with ordinality as split(receiver_type, receiver_merchant_id, amount_minor, position)`,
    [
      tradeNo, settleNo,
      splits.map((split) => split.receiver.type),
      splits.map((split) => (split.receiver.type === 'MERCHANT' ? split.receiver.merchantId : null)),
      splits.map((split) => split.amountMinor),
      currency,
    ],
  );
}

export async function listSplits(client: Queryable, tradeNo: string, settleNo: string | null): Promise<RoyaltySplit[]> {
  const { rows } = await client.query<{ receiver_type: 'MERCHANT' | 'PLATFORM'; receiver_merchant_id: string | null; amount_minor: bigint }>(
    `select receiver_type, receiver_merchant_id, amount_minor from royalty_splits
     where trade_no = $1 and settle_no is not distinct from $2 order by position`,
    [tradeNo, settleNo],
  );
  return rows.map((row) => ({
    receiver: row.receiver_type === 'PLATFORM' ? { type: 'PLATFORM' } : { type: 'MERCHANT', merchantId: row.receiver_merchant_id! },
    amountMinor: row.amount_minor,
  }));
}

/**
 * Guarded: moves an amount of a paid escrow trade's unsettled escrow to settled; undefined when the trade is
 * not a paid escrow trade or less than the amount is left (refund reservations count as taken).
 */
export async function addSettled(client: Queryable, tradeNo: string, amountMinor: bigint): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set settled_amount_minor = settled_amount_minor + $2, updated_at = now()
     where trade_no = $1 and trade_type = 'ESCROW' and status = 'TRADE_SUCCESS'
       and escrow_amount_minor - settled_amount_minor - escrow_refund_reserved_minor >= $2 returning *`,
    [tradeNo, amountMinor],
  );
  return rows[0];
}

/** Guarded: the buyer confirms receipt once. */
export async function markBuyerConfirmed(client: Queryable, tradeNo: string, at: Date): Promise<TradeRow | undefined> {
  const { rows } = await client.query<TradeRow>(
    `update trades set buyer_confirmed_at = $2, updated_at = now()
     where trade_no = $1 and trade_type = 'ESCROW' and status = 'TRADE_SUCCESS' and buyer_confirmed_at is null returning *`,
    [tradeNo, at],
  );
  return rows[0];
}

export async function setEscrowSettleBy(client: Queryable, tradeNo: string, at: Date): Promise<TradeRow> {
  const { rows } = await client.query<TradeRow>('update trades set escrow_settle_by = $2, updated_at = now() where trade_no = $1 returning *', [tradeNo, at]);
  return rows[0]!;
}

/**
 * Paid escrow trades with money left to settle whose confirm period has run out or whose buyer confirmed,
 * and that have no settle job: the sweep's safety net (a lost job, or escrow a failed refund gave back).
 */
export async function listEscrowTradesDue(client: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ trade_no: string }>(
    `select trade_no from trades t
     where trade_type = 'ESCROW' and status = 'TRADE_SUCCESS' and settled_amount_minor + escrow_refund_reserved_minor < escrow_amount_minor
       and (escrow_settle_by <= $1 or buyer_confirmed_at is not null)
       and not exists (select 1 from graphile_worker.jobs j where j.key = $3 || t.trade_no)
     order by escrow_settle_by limit $2`,
    [now, limit, jobKeyPrefixes.escrowSettle],
  );
  return rows.map((row) => row.trade_no);
}
