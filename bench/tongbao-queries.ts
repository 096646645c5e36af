/** Read-only queries on Tongbao's tables that the benchmark reports from, one function per query. */
import type pg from 'pg';

export async function countNotificationsCreated(client: pg.Client, from: Date, to: Date): Promise<number> {
  const { rows } = await client.query<{ count: string }>('select count(*) from notifications where created_at >= $1 and created_at < $2', [from, to]);
  return Number(rows[0]!.count);
}

export async function countNotificationsDelivered(client: pg.Client, from: Date, to: Date): Promise<number> {
  const { rows } = await client.query<{ count: string }>('select count(*) from notifications where succeeded_at >= $1 and succeeded_at < $2', [from, to]);
  return Number(rows[0]!.count);
}

export async function notificationsByStatus(client: pg.Client): Promise<Record<string, number>> {
  const { rows } = await client.query<{ status: string; count: string }>('select status, count(*) from notifications group by status order by status');
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

export async function countFailedDeliveryAttempts(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    'select count(*) from notification_attempts where error is not null or http_status is distinct from 200',
  );
  return Number(rows[0]!.count);
}

export async function countPaidTrades(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>("select count(*) from trades where status = 'TRADE_SUCCESS'");
  return Number(rows[0]!.count);
}

export interface AccountShards {
  readonly code: string;
  readonly kind: string;
  readonly shardCount: number;
  /** How many balance shards were ever written: a shard count above 1 only helps if postings spread. */
  readonly shardsUsed: number;
}

export async function accountShards(client: pg.Client): Promise<AccountShards[]> {
  const { rows } = await client.query<{ code: string; kind: string; shard_count: number; shards_used: string }>(
    `select a.code, a.kind, a.shard_count, count(*) filter (where b.balance_minor <> 0) as shards_used
     from ledger_accounts a join ledger_balances b using (account_id) group by a.account_id order by a.code`,
  );
  return rows.map((row) => ({ code: row.code, kind: row.kind, shardCount: row.shard_count, shardsUsed: Number(row.shards_used) }));
}
