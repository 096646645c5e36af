import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { enqueue } from '../jobs/index.js';
import { signContent } from '../shared/crypto.js';
import { formatWallClock } from '../shared/time.js';
import * as repository from './repository.js';

export { listNotifications, findNotification, listAttemptLogs, type NotificationRow, type NotifyType } from './repository.js';

const responseExcerptBytes = 256;


export interface NotificationInput {
  appId: string;
  notifyType: repository.NotifyType;
  tradeNo: string | null;
  refundNo: string | null;
  /** The merchant endpoint; when null (no notify_url anywhere), nothing is sent, as the seeds say. */
  url: string | null;
  /** Business fields in the Alipay style; notify_id and app_id are added here. */
  fields: Record<string, string | null | undefined>;
}

/**
 * Enqueues a signed notification to the merchant. Call it inside the transaction that makes the
 * state change: the notification exists exactly when the change commits.
 */
export async function enqueueNotification(client: Queryable, input: NotificationInput): Promise<string | null> {
  if (!input.url) return null;
  const notifyId = randomUUID().replace(/-/g, '');
  const params: Record<string, string> = { notify_id: notifyId, notify_type: input.notifyType, app_id: input.appId, charset: 'utf-8', version: '1.0' };
  for (const [key, value] of Object.entries(input.fields)) {
    if (value !== null && value !== undefined && value !== '') params[key] = value;
  }
  await repository.insertNotificationAndJob(client, { notifyId, appId: input.appId, notifyType: input.notifyType, tradeNo: input.tradeNo, refundNo: input.refundNo, url: input.url, params });
  return notifyId;
}

/** The form fields as sent: business fields plus notify_time, sign_type and the platform signature. */
export async function signedNotificationForm(context: Context, params: Record<string, string>, sentAt: Date): Promise<Record<string, string>> {
  const form: Record<string, string> = { ...params, notify_time: formatWallClock(sentAt, context.config.TONGBAO_TIMEZONE), sign_type: 'RSA2' };
  // Alipay excludes both sign and sign_type from the notification's signed string.
  form.sign = await context.platformKey.sign(signContent(form, ['sign', 'sign_type']));
  return form;
}

interface DeliveryOutcome {
  success: boolean;
  httpStatus: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

export function createNotifier(context: Context) {
  // Merchant endpoints get their own connection pool: a slow merchant cannot take sockets from channels.
  const agent = new Agent({ connections: 64, headersTimeout: context.config.TONGBAO_NOTIFY_TIMEOUT_MS, bodyTimeout: context.config.TONGBAO_NOTIFY_TIMEOUT_MS });

  async function post(url: string, form: Record<string, string>): Promise<DeliveryOutcome> {
    const started = performance.now();
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(context.config.TONGBAO_NOTIFY_TIMEOUT_MS),
      });
      const text = await readExcerpt(response.body);
      const latencyMs = Math.round(performance.now() - started);
      // The merchant acknowledges with the body "success" and nothing else (surrounding whitespace aside).
      const success = response.statusCode === 200 && text.trim() === 'success';
      return { success, httpStatus: response.statusCode, latencyMs, responseExcerpt: text, error: null };
    } catch (error) {
      return { success: false, httpStatus: null, latencyMs: Math.round(performance.now() - started), responseExcerpt: null, error: (error as Error).message.slice(0, 200) };
    }
  }

  /** One delivery attempt; schedules the next one on failure until the schedule is used up. */
  async function deliver(notifyId: string): Promise<void> {
    const notification = await repository.findNotification(context.pool, notifyId);
    if (!notification || notification.status !== 'PENDING') return;
    const log = context.log.child({ notify_id: notifyId, trade_no: notification.trade_no });
    const form = await signedNotificationForm(context, notification.params, now());
    const outcome = await post(notification.url, form);
    const attemptNumber = notification.attempt_count + 1;
    const schedule = context.config.notifyRetrySeconds;
    const retryDelay = schedule[notification.attempt_count];
    const status: repository.NotificationStatus = outcome.success ? 'SUCCESS' : retryDelay === undefined ? 'EXPIRED' : 'PENDING';
    const nextAttemptAt = status === 'PENDING' ? addSeconds(now(), retryDelay!) : null;
    // One statement: the guarded status change, the attempt log and the next delivery job commit together,
    // or (when another worker recorded this attempt first) none of them happens.
    await repository.recordDeliveryAttempt(context.pool, notifyId, notification.attempt_count, status, nextAttemptAt, { attemptNumber, ...outcome });
    log.info({ attempt: attemptNumber, http_status: outcome.httpStatus, latency_ms: outcome.latencyMs, status }, 'notification attempt');
  }

  /** Operator action: deliver again now, whatever the current status. */
  async function resend(notifyId: string): Promise<repository.NotificationRow | undefined> {
    return withTransaction(context.pool, async (client) => {
      const notification = await repository.markForResend(client, notifyId);
      if (notification) await enqueue(client, 'notify.deliver', { notify_id: notifyId }, { jobKey: repository.notifyJobKey(notifyId) });
      return notification;
    });
  }

  return { deliver, resend, close: () => agent.close() };
}

export type Notifier = ReturnType<typeof createNotifier>;

async function readExcerpt(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length < responseExcerptBytes) {
      chunks.push(chunk);
      length += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, responseExcerptBytes).toString('utf8');
}
