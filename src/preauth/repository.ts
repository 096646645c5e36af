import type { Queryable } from '../db/pool.js';
import { jobKeyPrefixes } from './job-keys.js';

export type AuthStatus = 'PROCESSING' | 'AUTHORIZED' | 'COMPLETED' | 'UNFROZEN' | 'EXPIRED' | 'FAILED';
export type OperationKind = 'FREEZE' | 'UNFREEZE' | 'COMPLETE' | 'COMPLETE_CANCEL';
export type OperationStatus = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
export type OperationInitiator = 'MERCHANT' | 'EXPIRY';

export interface AuthRow {
  auth_no: string;
  app_id: string;
  merchant_id: string;
  out_order_no: string;
  channel: string;
  channel_auth_ref: string | null;
  currency: string;
  amount_minor: bigint;
  completed_amount_minor: bigint;
  status: AuthStatus;
  subject: string;
  notify_url: string | null;
  trade_no: string | null;
  expires_at: Date;
  authorized_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface OperationRow {
  operation_no: string;
  auth_no: string;
  kind: OperationKind;
  initiator: OperationInitiator;
  out_request_no: string;
  amount_minor: bigint;
  currency: string;
  status: OperationStatus;
  channel_ref: string | null;
  failure_code: string | null;
  failure_message: string | null;
  trade_no: string | null;
  reverses_operation_no: string | null;
  query_count: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface NewAuth {
  appId: string;
  merchantId: string;
  outOrderNo: string;
  channel: string;
  currency: string;
  amountMinor: bigint;
  subject: string;
  notifyUrl: string | null;
  expiresAt: Date;
}

/** Inserts the hold unless (app_id, out_order_no) exists; undefined when it already did. */
export async function insertAuth(client: Queryable, auth: NewAuth): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    `insert into preauth_auths (auth_no, app_id, merchant_id, out_order_no, channel, currency, amount_minor, status, subject, notify_url, expires_at)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, 'PROCESSING', $7, $8, $9)
     on conflict (app_id, out_order_no) do nothing
     returning *`,
    [auth.appId, auth.merchantId, auth.outOrderNo, auth.channel, auth.currency, auth.amountMinor, auth.subject, auth.notifyUrl, auth.expiresAt],
  );
  return rows[0];
}

export interface AuthLookup {
  authNo?: string | undefined;
  outOrderNo?: string | undefined;
}

/** Finds an app's hold by auth_no or out_order_no; a hold of another app is never found. */
export async function findAuth(client: Queryable, appId: string, lookup: AuthLookup): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    'select * from preauth_auths where app_id = $1 and ($2::text is null or auth_no = $2) and ($3::text is null or out_order_no = $3)',
    [appId, lookup.authNo ?? null, lookup.outOrderNo ?? null],
  );
  return rows[0];
}

export async function findAuthByNo(client: Queryable, authNo: string, lock = false): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(`select * from preauth_auths where auth_no = $1 ${lock ? 'for update' : ''}`, [authNo]);
  return rows[0];
}

export interface NewOperation {
  authNo: string;
  kind: OperationKind;
  initiator: OperationInitiator;
  outRequestNo: string;
  amountMinor: bigint;
  currency: string;
  tradeNo: string | null;
  reversesOperationNo: string | null;
}

export async function insertOperation(client: Queryable, operation: NewOperation): Promise<OperationRow> {
  const { rows } = await client.query<OperationRow>(
    `insert into preauth_operations (operation_no, auth_no, kind, initiator, out_request_no, amount_minor, currency, status, trade_no, reverses_operation_no)
     values (next_business_no(), $1, $2, $3, $4, $5, $6, 'PROCESSING', $7, $8) returning *`,
    [operation.authNo, operation.kind, operation.initiator, operation.outRequestNo, operation.amountMinor, operation.currency, operation.tradeNo, operation.reversesOperationNo],
  );
  return rows[0]!;
}

export async function findOperation(client: Queryable, authNo: string, outRequestNo: string): Promise<OperationRow | undefined> {
  const { rows } = await client.query<OperationRow>('select * from preauth_operations where auth_no = $1 and out_request_no = $2', [authNo, outRequestNo]);
  return rows[0];
}

export async function findOperationByNo(client: Queryable, operationNo: string): Promise<OperationRow | undefined> {
  const { rows } = await client.query<OperationRow>('select * from preauth_operations where operation_no = $1', [operationNo]);
  return rows[0];
}

export async function findInFlightOperation(client: Queryable, authNo: string): Promise<OperationRow | undefined> {
  const { rows } = await client.query<OperationRow>("select * from preauth_operations where auth_no = $1 and status = 'PROCESSING'", [authNo]);
  return rows[0];
}

/** The completion that made this trade: the one a COMPLETE_CANCEL reverses while the hold is COMPLETED with it. */
export async function findCompletionOfTrade(client: Queryable, authNo: string, tradeNo: string): Promise<OperationRow | undefined> {
  const { rows } = await client.query<OperationRow>(
    "select * from preauth_operations where auth_no = $1 and kind = 'COMPLETE' and status = 'SUCCEEDED' and trade_no = $2",
    [authNo, tradeNo],
  );
  return rows[0];
}

export async function countExpiryOperations(client: Queryable, authNo: string): Promise<number> {
  const { rows } = await client.query<{ count: bigint }>("select count(*) from preauth_operations where auth_no = $1 and initiator = 'EXPIRY'", [authNo]);
  return Number(rows[0]!.count);
}

/** Guarded: only a PROCESSING operation can finish, so a result recorded twice is applied once. */
export async function finishOperation(
  client: Queryable,
  operationNo: string,
  status: 'SUCCEEDED' | 'FAILED',
  details: { channelRef: string | null; failureCode: string | null; failureMessage: string | null; finishedAt: Date },
): Promise<OperationRow | undefined> {
  const { rows } = await client.query<OperationRow>(
    `update preauth_operations set status = $2, channel_ref = coalesce($3, channel_ref), failure_code = $4, failure_message = $5,
            finished_at = $6, updated_at = now()
     where operation_no = $1 and status = 'PROCESSING' returning *`,
    [operationNo, status, details.channelRef, details.failureCode, details.failureMessage, details.finishedAt],
  );
  return rows[0];
}

export async function noteOperationTrade(client: Queryable, operationNo: string, tradeNo: string): Promise<OperationRow> {
  const { rows } = await client.query<OperationRow>('update preauth_operations set trade_no = $2, updated_at = now() where operation_no = $1 returning *', [operationNo, tradeNo]);
  return rows[0]!;
}

export async function noteOperationPending(client: Queryable, operationNo: string, channelRef: string | null): Promise<void> {
  await client.query(
    "update preauth_operations set channel_ref = coalesce($2, channel_ref), updated_at = now() where operation_no = $1 and status = 'PROCESSING'",
    [operationNo, channelRef],
  );
}

export async function countOperationQuery(client: Queryable, operationNo: string): Promise<number> {
  const { rows } = await client.query<{ query_count: number }>(
    'update preauth_operations set query_count = query_count + 1, updated_at = now() where operation_no = $1 returning query_count',
    [operationNo],
  );
  return rows[0]?.query_count ?? 0;
}

// Guarded transitions of a hold. Each names the status it expects and returns undefined when the hold was
// not in it; the callers hold the row locked, so undefined means a broken invariant, not a lost race.

/** PROCESSING -> AUTHORIZED: the freeze succeeded. */
export async function markAuthorized(client: Queryable, authNo: string, channelAuthRef: string, at: Date): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    `update preauth_auths set status = 'AUTHORIZED', channel_auth_ref = $2, authorized_at = $3, updated_at = now()
     where auth_no = $1 and status = 'PROCESSING' returning *`,
    [authNo, channelAuthRef, at],
  );
  return rows[0];
}

/** PROCESSING -> FAILED: the freeze failed; nothing is held. */
export async function markFreezeFailed(client: Queryable, authNo: string, at: Date): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    "update preauth_auths set status = 'FAILED', finished_at = $2, updated_at = now() where auth_no = $1 and status = 'PROCESSING' returning *",
    [authNo, at],
  );
  return rows[0];
}

/** AUTHORIZED -> COMPLETED: captured `amountMinor` into `tradeNo`; the rest is released. */
export async function markCompleted(client: Queryable, authNo: string, amountMinor: bigint, tradeNo: string, at: Date): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    `update preauth_auths set status = 'COMPLETED', completed_amount_minor = $2, trade_no = $3, finished_at = $4, updated_at = now()
     where auth_no = $1 and status = 'AUTHORIZED' returning *`,
    [authNo, amountMinor, tradeNo, at],
  );
  return rows[0];
}

/** AUTHORIZED -> UNFROZEN or EXPIRED: the whole hold is released. */
export async function markReleased(client: Queryable, authNo: string, status: 'UNFROZEN' | 'EXPIRED', at: Date): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    "update preauth_auths set status = $2, finished_at = $3, updated_at = now() where auth_no = $1 and status = 'AUTHORIZED' returning *",
    [authNo, status, at],
  );
  return rows[0];
}

/** COMPLETED -> AUTHORIZED: the completion was cancelled and the hold is valid again. */
export async function markCompletionCancelled(client: Queryable, authNo: string): Promise<AuthRow | undefined> {
  const { rows } = await client.query<AuthRow>(
    `update preauth_auths set status = 'AUTHORIZED', completed_amount_minor = 0, trade_no = null, finished_at = null, updated_at = now()
     where auth_no = $1 and status = 'COMPLETED' returning *`,
    [authNo],
  );
  return rows[0];
}

/**
 * Authorized holds past their deadline with no expiry job, oldest first, for the periodic sweep. Like the
 * trade sweep, it skips holds that already have their job (graphile-worker's jobs view, by job key), and holds
 * whose release the channel refused `maxTries` times, which wait for an operator.
 */
export async function listOverdueAuths(client: Queryable, now: Date, maxTries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ auth_no: string }>(
    `select auth_no from preauth_auths a where status = 'AUTHORIZED' and expires_at <= $1
       and not exists (select 1 from graphile_worker.jobs j where j.key = $4 || a.auth_no)
       and (select count(*) from preauth_operations o where o.auth_no = a.auth_no and o.initiator = 'EXPIRY') < $2
     order by expires_at limit $3`,
    [now, maxTries, limit, jobKeyPrefixes.expire],
  );
  return rows.map((row) => row.auth_no);
}

/** Operations still at the channel, untouched since `before`, whose compensation schedule is not used up. */
export async function listStaleOperations(client: Queryable, before: Date, maxQueries: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ operation_no: string }>(
    `select operation_no from preauth_operations o where status = 'PROCESSING' and updated_at < $1 and query_count < $2
       and not exists (select 1 from graphile_worker.jobs j where j.key = $4 || o.operation_no)
     order by updated_at limit $3`,
    [before, maxQueries, limit, jobKeyPrefixes.query],
  );
  return rows.map((row) => row.operation_no);
}
