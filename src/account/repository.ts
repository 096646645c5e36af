import type { Queryable } from '../db/pool.js';

export type AccountType = 'WALLET' | 'COIN' | 'CREDIT';
export type AccountStatus = 'NORMAL' | 'FROZEN' | 'BLACKLISTED';
export type IdType = 'ID_CARD' | 'PASSPORT' | 'HK_MACAO_PERMIT' | 'TAIWAN_PERMIT' | 'BUSINESS_LICENSE';

export interface UserRow {
  user_id: string;
  app_id: string;
  out_user_id: string;
  status: AccountStatus;
  real_name_sealed: string | null;
  real_name_masked: string | null;
  id_type: IdType | null;
  id_number_sealed: string | null;
  id_number_masked: string | null;
  verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface CoinUnitRow {
  app_id: string;
  code: string;
  name: string;
  currency: string;
  coins_per_unit: bigint;
  created_at: Date;
  updated_at: Date;
}

/** A user account with its status, which lives on its available ledger account (post_journal enforces it). */
export interface UserAccountRow {
  account_no: string;
  user_id: string;
  app_id: string;
  type: AccountType;
  currency: string;
  coin_unit: string | null;
  available_account_id: bigint;
  frozen_account_id: bigint;
  credit_limit_minor: bigint | null;
  status: AccountStatus;
  created_at: Date;
}

/** Inserts the user unless the app already has one with this out_user_id; returns the row only when inserted. */
export async function insertUser(client: Queryable, appId: string, outUserId: string): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>(
    `insert into users (user_id, app_id, out_user_id) values ('U' || next_business_no(), $1, $2)
     on conflict (app_id, out_user_id) do nothing returning *`,
    [appId, outUserId],
  );
  return rows[0];
}

export async function findUser(client: Queryable, appId: string, lookup: { userId?: string | undefined; outUserId?: string | undefined }, forUpdate = false): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>(
    `select * from users where app_id = $1 and ($2::text is null or user_id = $2) and ($3::text is null or out_user_id = $3)
     ${forUpdate ? 'for update' : ''}`,
    [appId, lookup.userId ?? null, lookup.outUserId ?? null],
  );
  return rows[0];
}

export async function findUserById(client: Queryable, userId: string): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>('select * from users where user_id = $1', [userId]);
  return rows[0];
}

export async function listUsers(client: Queryable, filter: { appId?: string | undefined; limit: number; offset: number }): Promise<UserRow[]> {
  const { rows } = await client.query<UserRow>(
    'select * from users where ($1::text is null or app_id = $1) order by created_at, user_id limit $2 offset $3',
    [filter.appId ?? null, filter.limit, filter.offset],
  );
  return rows;
}

export async function updateUserStatus(client: Queryable, userId: string, status: AccountStatus): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>('update users set status = $2, updated_at = now() where user_id = $1 returning *', [userId, status]);
  return rows[0];
}

export interface SealedRealName {
  realNameSealed: string;
  realNameMasked: string;
  idType: IdType;
  idNumberSealed: string;
  idNumberMasked: string;
}

/** Stores new real-name information; it is unverified again until an operator verifies it. */
export async function setUserRealName(client: Queryable, userId: string, realName: SealedRealName): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>(
    `update users set real_name_sealed = $2, real_name_masked = $3, id_type = $4, id_number_sealed = $5, id_number_masked = $6,
            verified_at = null, updated_at = now()
     where user_id = $1 returning *`,
    [userId, realName.realNameSealed, realName.realNameMasked, realName.idType, realName.idNumberSealed, realName.idNumberMasked],
  );
  return rows[0];
}

/** Marks the stored real-name information verified; only when there is some and it is not verified yet. */
export async function verifyUserRealName(client: Queryable, userId: string): Promise<UserRow | undefined> {
  const { rows } = await client.query<UserRow>(
    'update users set verified_at = now(), updated_at = now() where user_id = $1 and real_name_sealed is not null and verified_at is null returning *',
    [userId],
  );
  return rows[0];
}

const userAccountColumns = `u.account_no, u.user_id, u.app_id, u.type, u.currency, u.coin_unit, u.available_account_id, u.frozen_account_id,
  u.credit_limit_minor, a.status, u.created_at`;

export async function findUserAccount(client: Queryable, userId: string, type: AccountType, currency: string): Promise<UserAccountRow | undefined> {
  const { rows } = await client.query<UserAccountRow>(
    `select ${userAccountColumns} from user_accounts u join ledger_accounts a on a.account_id = u.available_account_id
     where u.user_id = $1 and u.type = $2 and u.currency = $3`,
    [userId, type, currency],
  );
  return rows[0];
}

export async function findUserAccountByNo(client: Queryable, accountNo: string): Promise<UserAccountRow | undefined> {
  const { rows } = await client.query<UserAccountRow>(
    `select ${userAccountColumns} from user_accounts u join ledger_accounts a on a.account_id = u.available_account_id where u.account_no = $1`,
    [accountNo],
  );
  return rows[0];
}

export async function listUserAccounts(client: Queryable, userId: string): Promise<UserAccountRow[]> {
  const { rows } = await client.query<UserAccountRow>(
    `select ${userAccountColumns} from user_accounts u join ledger_accounts a on a.account_id = u.available_account_id
     where u.user_id = $1 order by u.type, u.currency`,
    [userId],
  );
  return rows;
}

export interface NewUserAccount {
  userId: string;
  appId: string;
  type: AccountType;
  currency: string;
  coinUnit: string | null;
  availableAccountId: bigint;
  frozenAccountId: bigint;
}

/** Inserts the account unless it exists; returns whether this statement created it. */
export async function insertUserAccount(client: Queryable, account: NewUserAccount): Promise<boolean> {
  const { rowCount } = await client.query(
    `insert into user_accounts (account_no, user_id, app_id, type, currency, coin_unit, available_account_id, frozen_account_id, credit_limit_minor)
     values ('A' || next_business_no(), $1, $2, $3, $4, $5, $6, $7, case when $3 = 'CREDIT' then 0 end)
     on conflict (user_id, type, currency) do nothing`,
    [account.userId, account.appId, account.type, account.currency, account.coinUnit, account.availableAccountId, account.frozenAccountId],
  );
  return rowCount === 1;
}

export async function setCreditLimit(client: Queryable, accountNo: string, limitMinor: bigint): Promise<void> {
  await client.query("update user_accounts set credit_limit_minor = $2 where account_no = $1 and type = 'CREDIT'", [accountNo, limitMinor]);
}

export async function findCoinUnit(client: Queryable, appId: string, code: string): Promise<CoinUnitRow | undefined> {
  const { rows } = await client.query<CoinUnitRow>('select * from coin_units where app_id = $1 and code = $2', [appId, code]);
  return rows[0];
}

export async function listCoinUnits(client: Queryable, appId: string): Promise<CoinUnitRow[]> {
  const { rows } = await client.query<CoinUnitRow>('select * from coin_units where app_id = $1 order by code', [appId]);
  return rows;
}

/** Defines a coin unit or changes its name and rule; the currency it is bought with never changes once set. */
export async function upsertCoinUnit(client: Queryable, unit: { appId: string; code: string; name: string; currency: string; coinsPerUnit: bigint }): Promise<CoinUnitRow | undefined> {
  const { rows } = await client.query<CoinUnitRow>(
    `insert into coin_units (app_id, code, name, currency, coins_per_unit) values ($1, $2, $3, $4, $5)
     on conflict (app_id, code) do update set name = excluded.name, coins_per_unit = excluded.coins_per_unit, updated_at = now()
       where coin_units.currency = excluded.currency
     returning *`,
    [unit.appId, unit.code, unit.name, unit.currency, unit.coinsPerUnit],
  );
  return rows[0];
}

export async function insertAudit(
  client: Queryable,
  audit: { subjectType: 'USER' | 'ACCOUNT' | 'MERCHANT'; subjectId: string; action: string; reason: string; detail?: Record<string, unknown> },
): Promise<void> {
  await client.query(
    'insert into account_audit (subject_type, subject_id, action, reason, detail) values ($1, $2, $3, $4, $5)',
    [audit.subjectType, audit.subjectId, audit.action, audit.reason, JSON.stringify(audit.detail ?? {}, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))],
  );
}

export interface AuditRow {
  audit_id: bigint;
  subject_type: string;
  subject_id: string;
  action: string;
  reason: string;
  detail: Record<string, unknown>;
  created_at: Date;
}

export async function listAudit(client: Queryable, subjectType: string, subjectId: string): Promise<AuditRow[]> {
  const { rows } = await client.query<AuditRow>(
    'select * from account_audit where subject_type = $1 and subject_id = $2 order by audit_id',
    [subjectType, subjectId],
  );
  return rows;
}

export interface StatementLine {
  entry_id: bigint;
  transaction_id: bigint;
  kind: string;
  reference: string;
  description: string | null;
  /** IN: the balance grew; OUT: it shrank. */
  direction: 'IN' | 'OUT';
  amount_minor: bigint;
  created_at: Date;
}

/** An account's statement (流水): its entries, newest first, filtered by time range, posting kind and direction. */
export async function listStatement(
  client: Queryable,
  accountId: bigint,
  filter: { from?: Date | undefined; to?: Date | undefined; kind?: string | undefined; direction?: 'IN' | 'OUT' | undefined; limit: number; offset: number },
): Promise<StatementLine[]> {
  const { rows } = await client.query<StatementLine>(
    `select * from (
       select e.entry_id, e.transaction_id, t.kind, t.reference, t.description, e.amount_minor, e.created_at,
              case when e.side = a.normal_side then 'IN' else 'OUT' end as direction
       from journal_entries e join journal_transactions t using (transaction_id) join ledger_accounts a on a.account_id = e.account_id
       where e.account_id = $1 and ($2::timestamptz is null or e.created_at >= $2) and ($3::timestamptz is null or e.created_at < $3)
         and ($4::text is null or t.kind = $4)
     ) lines where ($5::text is null or direction = $5)
     order by entry_id desc limit $6 offset $7`,
    [accountId, filter.from ?? null, filter.to ?? null, filter.kind ?? null, filter.direction ?? null, filter.limit, filter.offset],
  );
  return rows;
}
