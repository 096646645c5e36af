/**
 * The callbacks already applied, by channel and replay key (migrations/1732350000000_callback_receipts.sql):
 * one guard against replayed callbacks for every channel and every Tongbao process. Times are the database's,
 * like the adapters' windows, which are real durations.
 */
import type { Queryable } from '../db/pool.js';

/** Whether this callback was applied before and is still remembered. */
export async function isCallbackSpent(client: Queryable, channel: string, replayKey: string): Promise<boolean> {
  const { rows } = await client.query('select 1 from callback_receipts where channel = $1 and replay_key = $2 and expires_at > now()', [channel, replayKey]);
  return rows.length > 0;
}

/**
 * Remembers an applied callback for `windowMs`. Two copies racing may both have been applied (applying an
 * outcome is idempotent); the first to record it wins and the other changes nothing.
 */
export async function spendCallback(client: Queryable, channel: string, replayKey: string, windowMs: number): Promise<void> {
  await client.query(
    `insert into callback_receipts (channel, replay_key, expires_at) values ($1, $2, now() + $3 * interval '1 millisecond')
     on conflict (channel, replay_key) do update set expires_at = excluded.expires_at, received_at = now() where callback_receipts.expires_at <= now()`,
    [channel, replayKey, windowMs],
  );
}

/** Forgets at most `limit` callbacks past their window; returns how many. */
export async function pruneCallbackReceipts(client: Queryable, limit: number): Promise<number> {
  const { rowCount } = await client.query(
    'delete from callback_receipts where ctid in (select ctid from callback_receipts where expires_at <= now() order by expires_at limit $1)',
    [limit],
  );
  return rowCount ?? 0;
}
