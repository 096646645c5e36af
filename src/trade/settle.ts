import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Client, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { enqueueNotification } from '../notify/index.js';
import { formatAmount, parseAmount } from '../shared/money.js';
import * as escrowRepository from './escrow-repository.js';
import type { SettlementRow, SettlementSource } from './escrow-repository.js';
import { checkSettleable, escrowUnsettledMinor } from './escrow.js';
import { jobKeys } from './job-keys.js';
import { notifyUrlOf } from './outcomes.js';
import { settlementEntries } from './postings.js';
import { createPresenter, settlementFields, tradeFields } from './present.js';
import * as repository from './repository.js';
import type { TradeRow } from './repository.js';
import { checkReceivers, checkRoyaltyFits, parseRoyalty, royaltyTotal, sameSplits, type RoyaltyParameter, type RoyaltySplit } from './royalty.js';

/**
 * Settlement of escrow trades (结算/分账): the merchant's settle calls, the buyer's confirmation and the
 * settlement when the confirm period runs out all go through settleLocked, under the trade row's lock.
 */

export interface SettleInput {
  out_request_no: string;
  settle_amount?: string | number | undefined;
  royalty_parameters?: RoyaltyParameter[] | undefined;
}

export interface SettleOutcome {
  settlement: SettlementRow;
  splits: RoyaltySplit[];
  trade: TradeRow;
}

interface SettleRequest {
  source: SettlementSource;
  outRequestNo: string;
  /** Null: all that remains unsettled. */
  requestedAmountMinor: bigint | null;
  splits: RoyaltySplit[];
}

/**
 * Settles escrowed money of a paid escrow trade whose row this transaction holds locked: the guarded move
 * from unsettled to settled, the settlement and its splits, its event and notification, and one balanced
 * posting (escrow pays the split receivers and the merchant the rest).
 */
async function settleLocked(context: Context, client: Client, trade: TradeRow, request: SettleRequest): Promise<SettleOutcome> {
  checkSettleable(trade);
  const remaining = escrowUnsettledMinor(trade);
  const amountMinor = request.requestedAmountMinor ?? remaining;
  if (remaining === 0n) fail(errors.settleAmountExceed, `nothing remains in escrow on trade ${trade.trade_no}`);
  if (amountMinor > remaining) {
    fail(errors.settleAmountExceed, `settle_amount ${formatAmount(amountMinor, trade.currency)} is above what remains in escrow: ${formatAmount(remaining, trade.currency)} ${trade.currency}`);
  }
  checkRoyaltyFits(request.splits, amountMinor, trade.currency, 'settle_amount');
  const updated = await escrowRepository.addSettled(client, trade.trade_no, amountMinor);
  // The row is locked and was just checked, so the guard cannot refuse: if it does, the code is wrong.
  if (!updated) throw new Error(`trade ${trade.trade_no} refused a settlement its locked row allowed`);
  const settlement = await escrowRepository.insertSettlement(client, {
    tradeNo: trade.trade_no, appId: trade.app_id, source: request.source, outRequestNo: request.outRequestNo,
    requestedAmountMinor: request.requestedAmountMinor, amountMinor, currency: trade.currency,
  });
  await escrowRepository.insertSplits(client, trade.trade_no, settlement.settle_no, request.splits, trade.currency);
  await recordEvent(client, 'settlement', settlement.settle_no, 'settlement.succeeded', {
    trade_no: trade.trade_no, source: request.source, amount_minor: amountMinor, royalty_amount_minor: royaltyTotal(request.splits),
  });
  const present = createPresenter(context.config.TONGBAO_TIMEZONE);
  await enqueueNotification(client, {
    appId: trade.app_id, notifyType: 'settle_status_sync', tradeNo: trade.trade_no, refundNo: null, url: await notifyUrlOf(client, updated),
    fields: { ...tradeFields(present, updated), ...settlementFields(present, settlement, request.splits, updated) },
  });
  await context.ledger.post(client, {
    kind: 'SETTLEMENT', reference: settlement.settle_no, currency: trade.currency, description: `settlement of trade ${trade.trade_no}`,
    entries: settlementEntries(updated, amountMinor, request.splits),
  });
  context.log.info({ trade_no: trade.trade_no, settle_no: settlement.settle_no, source: request.source }, 'escrow settled');
  return { settlement, splits: request.splits, trade: updated };
}

/** Tongbao's own settlements need a request number unique per trade: settled_amount_minor only grows, and no merchant can send '='. */
function internalRequest(source: 'CONFIRM' | 'AUTO', trade: TradeRow): SettleRequest {
  return { source, outRequestNo: `${source.toLowerCase()}=${trade.settled_amount_minor}`, requestedAmountMinor: null, splits: [] };
}

/** A repeated out_request_no: the same request gets its settlement back, another one is refused. */
async function sameSettlement(client: Queryable, existing: SettlementRow, request: SettleRequest): Promise<SettleOutcome> {
  const splits = await escrowRepository.listSplits(client, existing.trade_no, existing.settle_no);
  if (existing.requested_amount_minor !== request.requestedAmountMinor || !sameSplits(splits, request.splits)) {
    const asked = existing.requested_amount_minor === null ? 'all that remained' : formatAmount(existing.requested_amount_minor, existing.currency);
    fail(errors.settleRequestConflict, `out_request_no ${existing.out_request_no} was used for a settlement of ${asked} with ${splits.length} royalty receivers`);
  }
  return { settlement: existing, splits, trade: (await repository.findTradeByNo(client, existing.trade_no))! };
}

/**
 * tongbao.trade.settle: moves escrowed money (a given amount, or all that remains) to the merchant, split
 * among receivers if asked. Idempotent on out_request_no; parallel identical calls serialize on the trade
 * row and the later ones answer with the first one's settlement.
 */
export async function settleTrade(context: Context, trade: TradeRow, input: SettleInput): Promise<SettleOutcome> {
  let requestedAmountMinor: bigint | null = null;
  if (input.settle_amount !== undefined) {
    const parsed = parseAmount(input.settle_amount, trade.currency);
    if (!parsed.ok) fail(errors.invalidAmount, `settle_amount ${parsed.reason}`);
    requestedAmountMinor = parsed.amountMinor;
  }
  const splits = parseRoyalty(input.royalty_parameters, trade.currency);
  const request: SettleRequest = { source: 'MERCHANT', outRequestNo: input.out_request_no, requestedAmountMinor, splits };
  const existing = await escrowRepository.findSettlement(context.pool, trade.trade_no, input.out_request_no);
  if (existing) return sameSettlement(context.pool, existing, request);
  checkSettleable(trade);
  if (requestedAmountMinor !== null) checkRoyaltyFits(splits, requestedAmountMinor, trade.currency, 'settle_amount');
  await checkReceivers(context.pool, splits, trade.merchant_id);
  return withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    const raced = await escrowRepository.findSettlement(client, trade.trade_no, input.out_request_no);
    if (raced) return sameSettlement(client, raced, request);
    return settleLocked(context, client, locked, request);
  });
}

export interface ConfirmOutcome {
  trade: TradeRow;
  /** The settlement of what remained in escrow; null when nothing remained. */
  settlement: SettleOutcome | null;
}

async function alreadyConfirmed(client: Queryable, trade: TradeRow): Promise<ConfirmOutcome> {
  const settlement = await escrowRepository.findConfirmSettlement(client, trade.trade_no);
  return { trade, settlement: settlement ? { settlement, splits: [], trade } : null };
}

/**
 * tongbao.trade.confirm: the buyer confirmed receipt, so what remains in escrow is settled to the merchant.
 * A trade is confirmed once; confirming again answers with the first confirmation.
 */
export async function confirmTrade(context: Context, trade: TradeRow): Promise<ConfirmOutcome> {
  if (trade.buyer_confirmed_at !== null) return alreadyConfirmed(context.pool, trade);
  checkSettleable(trade);
  return withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    if (locked.buyer_confirmed_at !== null) return alreadyConfirmed(client, locked);
    checkSettleable(locked);
    const confirmed = (await escrowRepository.markBuyerConfirmed(client, locked.trade_no, now()))!;
    await recordEvent(client, 'trade', confirmed.trade_no, 'trade.confirmed', { unsettled_minor: escrowUnsettledMinor(confirmed) });
    if (escrowUnsettledMinor(confirmed) === 0n) return { trade: confirmed, settlement: null };
    const settled = await settleLocked(context, client, confirmed, internalRequest('CONFIRM', confirmed));
    return { trade: settled.trade, settlement: settled };
  });
}

/**
 * The trade.escrow.settle job: once the confirm period is over (or the buyer confirmed), settles what
 * remains in escrow to the merchant. Nothing to do when the trade was settled, refunded or closed meanwhile;
 * when the deadline lies ahead (a job run early), the job is put back at the deadline.
 */
export async function autoSettleTrade(context: Context, tradeNo: string): Promise<void> {
  await withTransaction(context.pool, async (client) => {
    const trade = await repository.findTradeByNo(client, tradeNo, true);
    if (!trade || trade.trade_type !== 'ESCROW' || trade.status !== 'TRADE_SUCCESS' || escrowUnsettledMinor(trade) === 0n) return;
    if (trade.buyer_confirmed_at === null && trade.escrow_settle_by !== null && trade.escrow_settle_by > now()) {
      await enqueue(client, 'trade.escrow.settle', { trade_no: tradeNo }, { runAt: trade.escrow_settle_by, jobKey: jobKeys.escrowSettle(tradeNo) });
      return;
    }
    await settleLocked(context, client, trade, internalRequest('AUTO', trade));
  });
}
