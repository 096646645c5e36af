import { toRealTime } from '../clock.js';
import type { Queryable } from '../db/pool.js';

/** The job key of a notification's delivery (at most one pending delivery per notification). */
export const notifyJobKeyPrefix = 'notify:';
export const notifyJobKey = (notifyId: string) => `${notifyJobKeyPrefix}${notifyId}`;

export type NotifyType = 'trade_status_sync' | 'refund_status_sync' | 'settle_status_sync' | 'preauth_status_sync' | 'recharge_status_sync' | 'withdraw_status_sync' | 'agreement_status_sync' | 'merchant_withdraw_status_sync';
export type NotificationStatus = 'PENDING' | 'SUCCESS' | 'EXPIRED';

export interface NotificationRow {
  notify_id: string;
  app_id: string;
  notify_type: NotifyType;
  trade_no: string | null;
  refund_no: string | null;
  url: string;
  params: Record<string, string>;
  status: NotificationStatus;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  succeeded_at: Date | null;
  created_at: Date;
}

export interface AttemptLogRow {
  attempt_number: number;
  attempted_at: Date;
  http_status: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

/**
 * Inserts the notification and enqueues its first delivery (the notify.deliver job, keyed by the
 * notification) in one statement: one round trip on the payment path instead of two.
 */
export async function insertNotificationAndJob(
  client: Queryable,
  notification: { notifyId: string; appId: string; notifyType: NotifyType; tradeNo: string | null; refundNo: string | null; url: string; params: Record<string, string> },
): Promise<void> {
  await client.query(
    `with inserted as (
       insert into notifications (notify_id, app_id, notify_type, trade_no, refund_no, url, params, next_attempt_at)
       values ($1, $2, $3, $4, $5, $6, $7, now()) returning notify_id
     )
     select graphile_worker.add_job('notify.deliver', json_build_object('notify_id', notify_id), job_key => $8 || notify_id) from inserted`,
    [notification.notifyId, notification.appId, notification.notifyType, notification.tradeNo, notification.refundNo, notification.url, JSON.stringify(notification.params), notifyJobKeyPrefix],
  );
}

export async function findNotification(client: Queryable, notifyId: string): Promise<NotificationRow | undefined> {
  const { rows } = await client.query<NotificationRow>('select * from notifications where notify_id = $1', [notifyId]);
  return rows[0];
}

/**
 * Records one delivery attempt in one statement: the status change, guarded on the attempt count read
 * before delivery (so two deliveries of one attempt cannot both record), the attempt log row, and, when a
 * retry is due, the next notify.deliver job. Returns false when another worker recorded it first.
 */
export async function recordDeliveryAttempt(
  client: Queryable,
  notifyId: string,
  expectedAttemptCount: number,
  status: NotificationStatus,
  /** In business time; the job runs when the (test) clock reaches it. */
  nextAttemptAt: Date | null,
  attempt: { attemptNumber: number; httpStatus: number | null; latencyMs: number; responseExcerpt: string | null; error: string | null },
): Promise<boolean> {
  const { rows } = await client.query<{ notify_id: string }>(
    `with updated as (
       update notifications set attempt_count = attempt_count + 1, status = $3, next_attempt_at = $4, last_attempt_at = now(),
              succeeded_at = case when $3 = 'SUCCESS' then now() else succeeded_at end
       where notify_id = $1 and attempt_count = $2 and status = 'PENDING'
       returning notify_id
     ), logged as (
       insert into notification_attempts (notify_id, attempt_number, http_status, latency_ms, response_excerpt, error)
       select notify_id, $5, $6, $7, $8, $9 from updated
     ), scheduled as (
       select graphile_worker.add_job('notify.deliver', json_build_object('notify_id', notify_id), run_at => $11, job_key => $10 || notify_id)
       from updated where $4::timestamptz is not null
     )
     select notify_id from updated, (select count(*) from scheduled) as forced`,
    [notifyId, expectedAttemptCount, status, nextAttemptAt, attempt.attemptNumber, attempt.httpStatus, attempt.latencyMs, attempt.responseExcerpt, attempt.error, notifyJobKeyPrefix, nextAttemptAt && toRealTime(nextAttemptAt)],
  );
  return rows.length === 1;
}

export async function markForResend(client: Queryable, notifyId: string): Promise<NotificationRow | undefined> {
  const { rows } = await client.query<NotificationRow>(
    "update notifications set status = 'PENDING', next_attempt_at = now() where notify_id = $1 returning *",
    [notifyId],
  );
  return rows[0];
}

export async function listNotifications(
  client: Queryable,
  filter: { appId?: string | undefined; tradeNo?: string | undefined; status?: NotificationStatus | undefined },
  limit: number,
  offset: number,
): Promise<NotificationRow[]> {
  const { rows } = await client.query<NotificationRow>(
    `select * from notifications
     where ($1::text is null or app_id = $1) and ($2::text is null or trade_no = $2) and ($3::text is null or status = $3)
     order by created_at desc, notify_id limit $4 offset $5`,
    [filter.appId ?? null, filter.tradeNo ?? null, filter.status ?? null, limit, offset],
  );
  return rows;
}

export async function listAttemptLogs(client: Queryable, notifyId: string): Promise<AttemptLogRow[]> {
  const { rows } = await client.query<AttemptLogRow>(
    'select attempt_number, attempted_at, http_status, latency_ms, response_excerpt, error from notification_attempts where notify_id = $1 order by attempt_number',
    [notifyId],
  );
  return rows;
}
