import type { Context } from '../context.js';
import { withTransaction, type Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import { attemptQuery } from './channel-requests.js';
import { notifyTrade, recordPayOutcome } from './outcomes.js';
import * as repository from './repository.js';
import type { TradeRow } from './repository.js';

/** Closes a waiting trade whose row the caller holds locked and that has no attempt at the channel. */
export async function closeLockedTrade(context: Context, client: Client, trade: TradeRow, reason: string): Promise<TradeRow | undefined> {
  const closed = await repository.markTradeClosed(client, trade.trade_no, reason);
  if (!closed) return undefined;
  await recordEvent(client, 'trade', trade.trade_no, 'trade.closed', { reason });
  await notifyTrade(context, client, closed);
  return closed;
}

export type CloseOutcome =
  | { status: 'CLOSED'; trade: TradeRow }
  | { status: 'PAID'; trade: TradeRow }
  | { status: 'UNKNOWN'; trade: TradeRow; reason: string };

/**
 * Closes an unpaid trade (by the merchant or by expiry). An attempt still at the channel is closed
 * there first, outside any transaction; if the channel says it was paid, the success is recorded instead.
 */
export async function closeTrade(context: Context, trade: TradeRow, reason: string): Promise<CloseOutcome> {
  if (trade.status !== 'WAIT_BUYER_PAY') return { status: trade.status === 'TRADE_CLOSED' ? 'CLOSED' : 'PAID', trade };
  const inFlight = await repository.findInFlightAttempt(context.pool, trade.trade_no);
  if (inFlight) {
    const channel = context.channels.get(inFlight.channel);
    if (!channel) return { status: 'UNKNOWN', trade, reason: `channel ${inFlight.channel} is not configured` };
    const answer = await channel.close(inFlight.attempt_no);
    if (answer.status === 'UNKNOWN') return { status: 'UNKNOWN', trade, reason: answer.reason };
    if (answer.status === 'ALREADY_PAID') {
      const paid = await recordPayOutcome(context, inFlight, await channel.query(attemptQuery(inFlight)));
      return paid.status === 'WAIT_BUYER_PAY' ? { status: 'UNKNOWN', trade: paid, reason: 'the channel says paid but its query disagrees' } : { status: 'PAID', trade: paid };
    }
    await recordPayOutcome(context, inFlight, { status: 'FAILED', code: 'CLOSED', message: `closed: ${reason}` });
  }
  return withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    if (locked.status !== 'WAIT_BUYER_PAY') return { status: locked.status === 'TRADE_CLOSED' ? 'CLOSED' : 'PAID', trade: locked } as const;
    // A new attempt may have started while the channel was asked; it holds the trade open.
    if (await repository.findInFlightAttempt(client, trade.trade_no)) return { status: 'UNKNOWN', trade: locked, reason: 'a payment attempt started meanwhile' } as const;
    return { status: 'CLOSED', trade: (await closeLockedTrade(context, client, locked, reason))! } as const;
  });
}

/** tongbao.trade.close: refuse what cannot be closed with the precise code. */
export async function closeTradeByMerchant(context: Context, trade: TradeRow): Promise<TradeRow> {
  if (trade.status === 'TRADE_CLOSED') return trade; // closing twice is idempotent
  if (trade.status !== 'WAIT_BUYER_PAY') fail(errors.tradeHasSuccess, `trade ${trade.trade_no} is ${trade.status}; refund it instead`);
  const outcome = await closeTrade(context, trade, 'MERCHANT_CLOSE');
  if (outcome.status === 'PAID') fail(errors.tradeHasSuccess, `trade ${trade.trade_no} was paid before it could be closed; refund it instead`);
  if (outcome.status === 'UNKNOWN') fail(errors.systemError, `the trade could not be closed yet (${outcome.reason}); retry later`);
  return outcome.trade;
}
