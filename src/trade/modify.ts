import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvent } from '../events/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { formatAmount } from '../shared/money.js';
import { tradeAmount } from './create.js';
import * as repository from './repository.js';
import type { TradeRow } from './repository.js';

/**
 * tongbao.trade.amount.modify: a new amount for an order still awaiting payment, never once an attempt has
 * started (the channel may already hold the old amount). The same amount again changes nothing.
 *
 * The trade row is locked first and the attempts counted in a later statement: under READ COMMITTED that
 * statement sees an attempt a racing pay committed while this call waited for the lock, which a single
 * guarded UPDATE with a NOT EXISTS sub-query would not.
 */
export async function modifyTradeAmount(context: Context, app: GatewayAppRow, trade: TradeRow, amount: string | number): Promise<TradeRow> {
  const amountMinor = tradeAmount(app, amount, trade.currency);
  return withTransaction(context.pool, async (client) => {
    const locked = (await repository.findTradeByNo(client, trade.trade_no, true))!;
    if (locked.status !== 'WAIT_BUYER_PAY') fail(errors.tradeStatusError, `trade ${locked.trade_no} is ${locked.status}; only an order awaiting payment can change its amount`);
    if (locked.expires_at <= now()) fail(errors.tradeStatusError, `trade ${locked.trade_no} is past its deadline and is being closed`);
    if (await repository.countAttempts(client, locked.trade_no) > 0) {
      fail(errors.amountModifyNotAllowed, `trade ${locked.trade_no} already has a payment attempt; close it and create a new order instead`);
    }
    if (locked.total_amount_minor === amountMinor) return locked;
    const updated = (await repository.updateTradeAmount(client, locked.trade_no, amountMinor))!;
    await recordEvent(client, 'trade', locked.trade_no, 'trade.amount_modified', {
      from_minor: locked.total_amount_minor, to_minor: amountMinor, currency: locked.currency,
    });
    context.log.info({ trade_no: locked.trade_no, from: formatAmount(locked.total_amount_minor, locked.currency), to: formatAmount(amountMinor, locked.currency) }, 'trade amount modified');
    return updated;
  });
}
