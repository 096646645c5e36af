/**
 * Recharge (充值) postings and notifications. A recharge is a trade with purpose RECHARGE: the trade
 * machinery (pay, callbacks, compensation queries) carries it, and recordSuccess calls these in the
 * transaction that marks it paid.
 */
import type { Context } from '../context.js';
import type { Queryable } from '../db/pool.js';
import { appCoinIssued, appCoinReserve, channelClearing } from '../ledger/index.js';
import { enqueueNotification } from '../notify/index.js';
import * as repository from './repository.js';
import { formatUnits } from './units.js';
import { withBalances } from './users.js';

interface RechargeTrade {
  readonly trade_no: string;
  readonly app_id: string;
  readonly currency: string;
  readonly recharge_account_no: string | null;
  readonly recharge_units: bigint | null;
}

interface PaidAttempt {
  readonly attempt_no: string;
  readonly channel: string;
  readonly amount_minor: bigint;
}

async function rechargedAccount(client: Queryable, trade: RechargeTrade) {
  const row = trade.recharge_account_no === null ? undefined : await repository.findUserAccountByNo(client, trade.recharge_account_no);
  if (!row || trade.recharge_units === null) throw new Error(`trade ${trade.trade_no} is not a recharge of an existing account`);
  return { row, units: trade.recharge_units };
}

/**
 * Credits the recharge. A wallet takes the money itself. Coins take two postings: the money backs the app's
 * coins (its coin reserve), and the coins are issued to the user per the unit's rule. Both are completions:
 * the channel took the money, so an account frozen or blacklisted meanwhile still receives it.
 */
export async function postRecharge(context: Pick<Context, 'ledger'>, client: Queryable, trade: RechargeTrade, attempt: PaidAttempt): Promise<void> {
  const { row, units } = await rechargedAccount(client, trade);
  const account = await withBalances(client, row, false);
  const clearing = { account: channelClearing(attempt.channel, trade.currency), side: 'DEBIT' as const, amountMinor: attempt.amount_minor };
  if (row.type !== 'COIN') {
    await context.ledger.post(client, {
      kind: 'PAYMENT', reference: attempt.attempt_no, currency: trade.currency, description: `recharge ${trade.trade_no}`, completion: true,
      entries: [clearing, { account: account.available, side: 'CREDIT', amountMinor: attempt.amount_minor }],
    });
    return;
  }
  await context.ledger.post(client, {
    kind: 'PAYMENT', reference: attempt.attempt_no, currency: trade.currency, description: `coin recharge ${trade.trade_no}`,
    entries: [clearing, { account: appCoinReserve(trade.app_id, trade.currency), side: 'CREDIT', amountMinor: attempt.amount_minor }],
  });
  await context.ledger.post(client, {
    kind: 'COIN_ISSUE', reference: attempt.attempt_no, currency: row.currency, description: `coin recharge ${trade.trade_no}`, completion: true,
    entries: [
      { account: appCoinIssued(trade.app_id, row.coin_unit!), side: 'DEBIT', amountMinor: units },
      { account: account.available, side: 'CREDIT', amountMinor: units },
    ],
  });
}

/** The recharge's own fields, added to the trade's in answers and notifications. */
export async function rechargeFields(client: Queryable, trade: RechargeTrade): Promise<Record<string, string | undefined>> {
  const { row, units } = await rechargedAccount(client, trade);
  const user = await repository.findUserById(client, row.user_id);
  return {
    user_id: row.user_id,
    out_user_id: user?.out_user_id,
    account_no: row.account_no,
    account_type: row.type,
    coin_unit: row.coin_unit ?? undefined,
    recharge_amount: formatUnits(units, row.currency),
  };
}

/** recharge_status_sync: the trade's fields (as the trade domain presents them) and the recharge's. */
export async function notifyRecharge(
  client: Queryable, trade: RechargeTrade, url: string | null, tradeFields: Record<string, string | undefined>,
): Promise<void> {
  await enqueueNotification(client, {
    appId: trade.app_id, notifyType: 'recharge_status_sync', tradeNo: trade.trade_no, refundNo: null, url,
    fields: { ...tradeFields, ...(await rechargeFields(client, trade)) },
  });
}
