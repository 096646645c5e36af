import type { Queryable } from '../db/pool.js';
import type { AccountSpec } from './accounts.js';

export interface AccountRow {
  account_id: bigint;
  code: string;
  currency: string;
  shard_count: number;
  /** True when this statement created the account (so it exists only once the caller commits). */
  inserted: boolean;
}

/**
 * Creates the account and its balance shards if missing; safe under concurrency. When another process creates the same account at the same moment, this insert waits for
 * it and then does nothing, yet the row it waited for is newer than the statement's snapshot, so neither
 * branch returns it. Running the statement again, with a new snapshot, finds it.
 */
export async function ensureAccount(client: Queryable, spec: AccountSpec): Promise<AccountRow> {
  const maxAttempts = 3;
  for (let attempt = 1; ; attempt++) {
    const row = await insertOrFindAccount(client, spec);
    if (row) return row;
    if (attempt >= maxAttempts) throw new Error(`ledger account ${spec.code} was neither created nor found after ${maxAttempts} attempts`);
  }
}

async function insertOrFindAccount(client: Queryable, spec: AccountSpec): Promise<AccountRow | undefined> {
  const { rows } = await client.query<AccountRow>(
    `with inserted as (
       insert into ledger_accounts (code, kind, owner_type, owner_id, currency, normal_side, shard_count, min_balance_minor)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (code) do nothing
       returning account_id, code, currency, shard_count
     ), shards as (
       insert into ledger_balances (account_id, shard)
       select account_id, generate_series(0, shard_count - 1) from inserted
     )
     select account_id, code, currency, shard_count, true as inserted from inserted
     union all
     -- Created earlier by this same transaction counts as inserted too: it is not committed, so not cacheable.
     select account_id, code, currency, shard_count, xmin::text = (txid_current() % 4294967296)::text as inserted from ledger_accounts where code = $1`,
    [spec.code, spec.kind, spec.ownerType, spec.ownerId, spec.currency, spec.normalSide, spec.shardCount, spec.minBalanceMinor ?? null],
  );
  return rows[0];
}

export async function postJournal(
  client: Queryable,
  header: { kind: string; reference: string; currency: string; description: string | null },
  entries: { accountIds: bigint[]; sides: string[]; amounts: bigint[]; shards: number[] },
  completion: boolean,
): Promise<bigint | null> {
  const { rows } = await client.query<{ transaction_id: bigint | null }>(
    'select post_journal($1, $2, $3, $4, $5::bigint[], $6::text[], $7::bigint[], $8::int[], $9) as transaction_id',
    [header.kind, header.reference, header.currency, header.description, entries.accountIds, entries.sides, entries.amounts, entries.shards, completion],
  );
  return rows[0]!.transaction_id;
}

export async function accountBalance(client: Queryable, code: string): Promise<bigint | null> {
  const { rows } = await client.query<{ balance: bigint | null }>(
    `select sum(b.balance_minor)::bigint as balance from ledger_accounts a join ledger_balances b using (account_id) where a.code = $1`,
    [code],
  );
  return rows[0]?.balance ?? null;
}

export interface TrialBalanceRow {
  currency: string;
  debits: bigint;
  credits: bigint;
}

export async function trialBalance(client: Queryable): Promise<TrialBalanceRow[]> {
  const { rows } = await client.query<TrialBalanceRow>(
    `select currency,
            coalesce(sum(amount_minor) filter (where side = 'DEBIT'), 0)::bigint as debits,
            coalesce(sum(amount_minor) filter (where side = 'CREDIT'), 0)::bigint as credits
     from journal_entries group by currency order by currency`,
  );
  return rows;
}

export async function unbalancedTransactions(client: Queryable): Promise<{ transaction_id: bigint; difference: bigint }[]> {
  const { rows } = await client.query<{ transaction_id: bigint; difference: bigint }>(
    `select transaction_id, sum(case side when 'DEBIT' then amount_minor else -amount_minor end)::bigint as difference
     from journal_entries group by transaction_id
     having sum(case side when 'DEBIT' then amount_minor else -amount_minor end) <> 0
     limit 100`,
  );
  return rows;
}

/** Accounts whose stored balance (sum of shards) differs from the sum of their entries. */
export async function balanceMismatches(client: Queryable): Promise<{ code: string; stored: bigint; from_entries: bigint }[]> {
  const { rows } = await client.query<{ code: string; stored: bigint; from_entries: bigint }>(
    `with stored as (
       select account_id, sum(balance_minor)::bigint as stored from ledger_balances group by account_id
     ), posted as (
       select e.account_id, sum(case when e.side = a.normal_side then e.amount_minor else -e.amount_minor end)::bigint as from_entries
       from journal_entries e join ledger_accounts a using (account_id) group by e.account_id
     ), wrong_currency as (
       select distinct e.account_id from journal_entries e join ledger_accounts a using (account_id) where e.currency <> a.currency
     )
     select a.code, coalesce(s.stored, 0) as stored, coalesce(p.from_entries, 0) as from_entries
     from ledger_accounts a left join stored s using (account_id) left join posted p using (account_id)
     where coalesce(s.stored, 0) <> coalesce(p.from_entries, 0)
        or a.account_id in (select account_id from wrong_currency)
     order by a.code limit 100`,
  );
  return rows;
}

export async function countAccountsAndTransactions(client: Queryable): Promise<{ accounts: bigint; transactions: bigint }> {
  const { rows } = await client.query<{ accounts: bigint; transactions: bigint }>(
    'select (select count(*) from ledger_accounts) as accounts, (select count(*) from journal_transactions) as transactions',
  );
  return rows[0]!;
}

export interface LockedBalance {
  account_id: bigint;
  balance_minor: bigint;
  status: 'NORMAL' | 'FROZEN' | 'BLACKLISTED';
}

/**
 * Locks every balance row of these accounts, in (account_id, shard) order like post_journal, and returns
 * each account's balance and status. A check made under this lock holds until the caller commits.
 */
export async function lockBalances(client: Queryable, accountIds: readonly bigint[]): Promise<Map<bigint, LockedBalance>> {
  const { rows } = await client.query<{ account_id: bigint; balance_minor: bigint; status: LockedBalance['status'] }>(
    `select b.account_id, b.balance_minor, a.status from ledger_balances b join ledger_accounts a using (account_id)
     where b.account_id = any($1::bigint[]) order by b.account_id, b.shard for update of b`,
    [accountIds],
  );
  const balances = new Map<bigint, LockedBalance>();
  for (const row of rows) {
    const seen = balances.get(row.account_id);
    balances.set(row.account_id, { account_id: row.account_id, status: row.status, balance_minor: (seen?.balance_minor ?? 0n) + row.balance_minor });
  }
  return balances;
}

/** Sets an account's status (NORMAL, FROZEN, BLACKLISTED), which post_journal enforces; returns false for an unknown account. */
export async function setAccountStatus(client: Queryable, accountId: bigint, status: LockedBalance['status']): Promise<boolean> {
  const { rowCount } = await client.query('update ledger_accounts set status = $2 where account_id = $1', [accountId, status]);
  return rowCount === 1;
}
