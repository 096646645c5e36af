/**
 * A merchant's settlement accounts (结算账户) as accounts: the ledger's merchantPending is what the merchant
 * may withdraw (available) and merchantWithdrawing what is on its way to the merchant's bank (frozen).
 */
import type { Context } from '../context.js';
import type { Queryable } from '../db/pool.js';
import { lockBalances, merchantPending, merchantWithdrawing } from '../ledger/index.js';

export interface MerchantAccountBalance {
  readonly currency: string;
  readonly availableMinor: bigint;
  readonly frozenMinor: bigint;
}

/** Every currency the merchant has a settlement account in, with its balances. */
export async function merchantAccounts(client: Queryable, merchantId: string): Promise<MerchantAccountBalance[]> {
  const { rows } = await client.query<{ currency: string; available: bigint; frozen: bigint }>(
    `select a.currency,
            coalesce(sum(b.balance_minor) filter (where a.kind = 'MERCHANT_PENDING'), 0)::bigint as available,
            coalesce(sum(b.balance_minor) filter (where a.kind = 'MERCHANT_WITHDRAWING'), 0)::bigint as frozen
     from ledger_accounts a join ledger_balances b using (account_id)
     where a.owner_type = 'MERCHANT' and a.owner_id = $1 and a.kind in ('MERCHANT_PENDING', 'MERCHANT_WITHDRAWING')
     group by a.currency order by a.currency`,
    [merchantId],
  );
  return rows.map((row) => ({ currency: row.currency, availableMinor: row.available, frozenMinor: row.frozen }));
}

/**
 * Locks every shard of the merchant's settlement account in a currency and returns its balance. Payments
 * credit these shards too, so the lock is held only for the short transaction that checks and moves money.
 */
export async function lockMerchantAvailable(context: Pick<Context, 'ledger'>, client: Queryable, merchantId: string, currency: string): Promise<bigint> {
  const pending = await context.ledger.account(client, merchantPending(merchantId, currency));
  await context.ledger.account(client, merchantWithdrawing(merchantId, currency));
  const balances = await lockBalances(client, [pending.account_id]);
  return balances.get(pending.account_id)?.balance_minor ?? 0n;
}
