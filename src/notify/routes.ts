import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { Paging } from '../admin/schemas.js';
import type { Notifier } from './index.js';
import * as repository from './repository.js';

function presentNotification(notification: repository.NotificationRow) {
  return {
    notify_id: notification.notify_id,
    app_id: notification.app_id,
    notify_type: notification.notify_type,
    trade_no: notification.trade_no,
    refund_no: notification.refund_no,
    url: notification.url,
    params: notification.params,
    status: notification.status,
    attempt_count: notification.attempt_count,
    next_attempt_at: notification.next_attempt_at?.toISOString() ?? null,
    last_attempt_at: notification.last_attempt_at?.toISOString() ?? null,
    succeeded_at: notification.succeeded_at?.toISOString() ?? null,
    created_at: notification.created_at.toISOString(),
  };
}

/** Operators list notifications, read every attempt, and resend one. */
export async function notifyAdminRoutes(fastify: FastifyInstance, options: { context: Context; notifier: Notifier }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context, notifier } = options;

  app.get('/notifications', {
    schema: {
      querystring: Type.Composite([Paging, Type.Object({
        app_id: Type.Optional(Type.String({ maxLength: 32 })),
        trade_no: Type.Optional(Type.String({ maxLength: 64 })),
        status: Type.Optional(Type.Union([Type.Literal('PENDING'), Type.Literal('SUCCESS'), Type.Literal('EXPIRED')])),
      })]),
    },
  }, async (request) => {
    const { limit, offset, app_id, trade_no, status } = request.query;
    const rows = await repository.listNotifications(context.pool, { appId: app_id, tradeNo: trade_no, status }, limit, offset);
    return { notifications: rows.map(presentNotification) };
  });

  app.get('/notifications/:notify_id', { schema: { params: Type.Object({ notify_id: Type.String({ maxLength: 64 }) }) } }, async (request) => {
    const notification = await repository.findNotification(context.pool, request.params.notify_id);
    if (!notification) fail(errors.notFound, `notification ${request.params.notify_id} does not exist`);
    const attempts = await repository.listAttemptLogs(context.pool, notification.notify_id);
    return {
      ...presentNotification(notification),
      attempts: attempts.map((attempt) => ({ ...attempt, attempted_at: attempt.attempted_at.toISOString() })),
    };
  });

  app.post('/notifications/:notify_id/resend', { schema: { params: Type.Object({ notify_id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const notification = await notifier.resend(request.params.notify_id);
    if (!notification) fail(errors.notFound, `notification ${request.params.notify_id} does not exist`);
    return reply.code(202).send(presentNotification(notification));
  });
}
