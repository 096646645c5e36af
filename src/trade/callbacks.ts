import type { FastifyInstance } from 'fastify';
import type { ChannelOperationResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { recordPayOutcome, recordRefundOutcome } from './outcomes.js';
import { channelNotifyUrl } from './pay.js';
import * as repository from './repository.js';

/** Applies an OPERATION callback when the number is its domain's (pre-authorization, payout); false otherwise. */
export type OperationCallbackHandler = (context: Context, channel: string, operationNo: string, result: ChannelOperationResult) => Promise<boolean>;

/**
 * POST /channels/:channel/notify: asynchronous results from channels. The adapter verifies the
 * signature and freshness; the outcome is applied through the same guarded path as synchronous answers,
 * so a replayed or duplicated callback changes nothing. A database failure answers 500 so the channel retries.
 */
export async function channelCallbackRoutes(app: FastifyInstance, options: { context: Context; operationHandlers: readonly OperationCallbackHandler[] }): Promise<void> {
  const { context, operationHandlers } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_request, body, done) => done(null, body));

  app.post<{ Params: { channel: string } }>('/channels/:channel/notify', async (request, reply) => {
    const channel = context.channels.get(request.params.channel);
    if (!channel) return reply.code(404).send({ code: 'UNKNOWN_CHANNEL' });
    const verification = channel.verifyNotification({
      headers: request.headers,
      rawBody: typeof request.body === 'string' ? request.body : '',
      path: new URL(channelNotifyUrl(context, channel.name)).pathname,
    });
    if (!verification.ok) {
      request.log.warn({ channel: channel.name, reason: verification.reason }, 'channel callback rejected');
      const ack = channel.acknowledge(false);
      return reply.code(ack.statusCode).type(ack.contentType).send(ack.body);
    }
    const notification = verification.notification;
    if (notification.kind === 'PAYMENT') {
      const attempt = await repository.findAttempt(context.pool, notification.attemptNo);
      if (attempt && attempt.channel === channel.name) await recordPayOutcome(context, attempt, notification.result);
      else request.log.warn({ channel: channel.name, attempt_no: notification.attemptNo }, 'callback for an unknown attempt');
    } else if (notification.kind === 'REFUND') {
      const refund = await repository.findRefundByNo(context.pool, notification.refundNo);
      if (refund && refund.channel === channel.name) await recordRefundOutcome(context, refund, notification.result);
      else request.log.warn({ channel: channel.name, refund_no: notification.refundNo }, 'callback for an unknown refund');
    } else {
      let handled = false;
      for (const handle of operationHandlers) {
        handled = await handle(context, channel.name, notification.operationNo, notification.result);
        if (handled) break;
      }
      if (!handled) request.log.warn({ channel: channel.name, operation_no: notification.operationNo }, 'callback for an unknown operation');
    }
    const ack = channel.acknowledge(true);
    return reply.code(ack.statusCode).type(ack.contentType).send(ack.body);
  });
}
