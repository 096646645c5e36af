/** SQL of local payments, pay passwords and credit bills: one function per query. */
import type { Queryable } from '../db/pool.js';
import type { HashParams } from './password.js';

export interface PayPasswordRow {
  user_id: string;
  hash: string;
  salt: string;
  params: HashParams;
  failed_count: number;
  locked_until: Date | null;
}

export async function findPayPassword(client: Queryable, userId: string): Promise<PayPasswordRow | undefined> {
  const { rows } = await client.query<PayPasswordRow>('select * from pay_passwords where user_id = $1', [userId]);
  return rows[0];
}

export async function upsertPayPassword(client: Queryable, userId: string, hashed: { hash: string; salt: string; params: HashParams }): Promise<void> {
  await client.query(
    `insert into pay_passwords (user_id, hash, salt, params) values ($1, $2, $3, $4)
     on conflict (user_id) do update set hash = excluded.hash, salt = excluded.salt, params = excluded.params,
       failed_count = 0, locked_until = null, updated_at = now()`,
    [userId, hashed.hash, hashed.salt, JSON.stringify(hashed.params)],
  );
}

/**
 * Takes one try, counted as wrong until giveBackTry, and locks the row until the caller's transaction ends:
 * undefined when the password is locked at `at` (or not set). A lock that has run out starts the count
 * again. The expressions read the row as left by any parallel try (the UPDATE re-reads it after waiting for
 * the row lock), so two guesses can never take the same last try.
 */
export async function takePasswordTry(client: Queryable, userId: string, maxTries: number, at: Date, lockUntil: Date): Promise<PayPasswordRow | undefined> {
  const { rows } = await client.query<PayPasswordRow>(
    `update pay_passwords set
       failed_count = case when locked_until <= $3 then 1 else failed_count + 1 end,
       locked_until = case when (case when locked_until <= $3 then 1 else failed_count + 1 end) >= $2 then $4::timestamptz end,
       updated_at = now()
     where user_id = $1 and (locked_until is null or locked_until <= $3)
     returning *`,
    [userId, maxTries, at, lockUntil],
  );
  return rows[0];
}

export async function giveBackTry(client: Queryable, userId: string): Promise<void> {
  await client.query('update pay_passwords set failed_count = 0, locked_until = null, updated_at = now() where user_id = $1', [userId]);
}

export interface NoPasswordLimits {
  /** The user's own per-payment limit; null when not enabled. */
  user_single_minor: bigint | null;
  app_single_minor: bigint | null;
  app_daily_minor: bigint | null;
}

export async function findNoPasswordLimits(client: Queryable, appId: string, userId: string, currency: string): Promise<NoPasswordLimits> {
  const { rows } = await client.query<NoPasswordLimits>(
    `select (select single_limit_minor from nopassword_settings where user_id = $2 and currency = $3) as user_single_minor,
            a.max_single_minor as app_single_minor, a.max_daily_minor as app_daily_minor
     from (select 1) one left join app_nopassword_limits a on a.app_id = $1 and a.currency = $3`,
    [appId, userId, currency],
  );
  return rows[0]!;
}

export async function setUserNoPassword(client: Queryable, userId: string, currency: string, singleLimitMinor: bigint | null): Promise<void> {
  if (singleLimitMinor === null) {
    await client.query('delete from nopassword_settings where user_id = $1 and currency = $2', [userId, currency]);
    return;
  }
  await client.query(
    `insert into nopassword_settings (user_id, currency, single_limit_minor) values ($1, $2, $3)
     on conflict (user_id, currency) do update set single_limit_minor = excluded.single_limit_minor, updated_at = now()`,
    [userId, currency, singleLimitMinor],
  );
}

export interface AppNoPasswordLimitRow {
  app_id: string;
  currency: string;
  max_single_minor: bigint;
  max_daily_minor: bigint;
  updated_at: Date;
}

export async function upsertAppNoPasswordLimit(client: Queryable, appId: string, currency: string, maxSingleMinor: bigint, maxDailyMinor: bigint): Promise<AppNoPasswordLimitRow> {
  const { rows } = await client.query<AppNoPasswordLimitRow>(
    `insert into app_nopassword_limits (app_id, currency, max_single_minor, max_daily_minor) values ($1, $2, $3, $4)
     on conflict (app_id, currency) do update set max_single_minor = excluded.max_single_minor, max_daily_minor = excluded.max_daily_minor, updated_at = now()
     returning *`,
    [appId, currency, maxSingleMinor, maxDailyMinor],
  );
  // A lowered app maximum also lowers what users enabled above it.
  await client.query(
    `update nopassword_settings s set single_limit_minor = $3, updated_at = now() from users u
     where u.user_id = s.user_id and u.app_id = $1 and s.currency = $2 and s.single_limit_minor > $3`,
    [appId, currency, maxSingleMinor],
  );
  await client.query(
    'delete from nopassword_settings s using users u where u.user_id = s.user_id and u.app_id = $1 and s.currency = $2 and s.single_limit_minor = 0',
    [appId, currency],
  );
  return rows[0]!;
}

export async function listAppNoPasswordLimits(client: Queryable, appId: string): Promise<AppNoPasswordLimitRow[]> {
  const { rows } = await client.query<AppNoPasswordLimitRow>('select * from app_nopassword_limits where app_id = $1 order by currency', [appId]);
  return rows;
}

/**
 * Adds a password-free payment to the user's total of the day, only if the total stays within the cap:
 * false when it would not. Concurrent payments serialize on the row, so the cap holds under parallel calls.
 */
export async function addNoPasswordUsage(client: Queryable, userId: string, currency: string, businessDate: string, amountMinor: bigint, capMinor: bigint): Promise<boolean> {
  if (amountMinor > capMinor) return false;
  const { rowCount } = await client.query(
    `insert into nopassword_usage (user_id, currency, business_date, used_minor) values ($1, $2, $3, $4)
     on conflict (user_id, currency, business_date) do update set used_minor = nopassword_usage.used_minor + excluded.used_minor
       where nopassword_usage.used_minor + excluded.used_minor <= $5`,
    [userId, currency, businessDate, amountMinor, capMinor],
  );
  return rowCount === 1;
}

export interface LocalPaymentRow {
  attempt_no: string;
  trade_no: string;
  channel: 'balance' | 'coin' | 'credit';
  user_id: string;
  account_no: string;
  units: bigint;
  coins_per_unit: bigint | null;
  authorized_by: 'PASSWORD' | 'NO_PASSWORD';
}

export async function insertLocalPayment(client: Queryable, row: LocalPaymentRow): Promise<void> {
  await client.query(
    `insert into local_payments (attempt_no, trade_no, channel, user_id, account_no, units, coins_per_unit, authorized_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.attempt_no, row.trade_no, row.channel, row.user_id, row.account_no, row.units, row.coins_per_unit, row.authorized_by],
  );
}

export async function findLocalPayment(client: Queryable, attemptNo: string): Promise<LocalPaymentRow | undefined> {
  const { rows } = await client.query<LocalPaymentRow>('select * from local_payments where attempt_no = $1', [attemptNo]);
  return rows[0];
}
