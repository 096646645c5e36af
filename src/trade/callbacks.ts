import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ChannelNotification, ChannelOperationResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { isCallbackSpent, spendCallback } from './callback-receipts.js';
import { recordPayOutcome, recordRefundOutcome } from './outcomes.js';
import { channelNotifyUrl } from './pay.js';
import * as repository from './repository.js';

/** Applies an OPERATION callback when the number is its domain's (pre-authorization, payout); false otherwise. */
export type OperationCallbackHandler = (context: Context, channel: string, operationNo: string, result: ChannelOperationResult) => Promise<boolean>;

/**
 * Applies a verified notification through the same guarded paths as synchronous answers, so applying it twice
 * changes nothing. Numbers Tongbao does not know (or that belong to another channel) are logged and dropped.
 */
async function applyNotification(
  context: Context, channel: string, notification: ChannelNotification, operationHandlers: readonly OperationCallbackHandler[], log: FastifyBaseLogger,
): Promise<void> {
  switch (notification.kind) {
    case 'PAYMENT': {
      const attempt = await repository.findAttempt(context.pool, notification.attemptNo);
      if (attempt && attempt.channel === channel) await recordPayOutcome(context, attempt, notification.result);
      else log.warn({ channel, attempt_no: notification.attemptNo }, 'callback for an unknown attempt');
      return;
    }
    case 'REFUND': {
      const refund = await repository.findRefundByNo(context.pool, notification.refundNo);
      if (refund && refund.channel === channel) await recordRefundOutcome(context, refund, notification.result);
      else log.warn({ channel, refund_no: notification.refundNo }, 'callback for an unknown refund');
      return;
    }
    case 'OPERATION': {
      for (const handle of operationHandlers) {
        if (await handle(context, channel, notification.operationNo, notification.result)) return;
      }
      log.warn({ channel, operation_no: notification.operationNo }, 'callback for an unknown operation');
      return;
    }
    case 'IGNORED':
      log.info({ channel, about: notification.about }, 'channel callback needs nothing from Tongbao');
      return;
  }
}

/**
 * POST /channels/:channel/notify: asynchronous results from channels. The adapter verifies the signature and
 * freshness and names the callback by a replay key; this route refuses a key already spent and spends it only
 * after the outcome is stored, so a callback whose processing failed (a database failure answers 500) is
 * accepted when the channel sends it again. Keys live in PostgreSQL, shared by every Tongbao process.
 */
export async function channelCallbackRoutes(app: FastifyInstance, options: { context: Context; operationHandlers: readonly OperationCallbackHandler[] }): Promise<void> {
  const { context, operationHandlers } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_request, body, done) => done(null, body));

  app.post<{ Params: { channel: string } }>('/channels/:channel/notify', async (request, reply) => {
    const channel = context.channels.get(request.params.channel);
    if (!channel) return reply.code(404).send({ code: 'UNKNOWN_CHANNEL' });
    const answer = (accepted: boolean) => {
      const ack = channel.acknowledge(accepted);
      return reply.code(ack.statusCode).type(ack.contentType).send(ack.body);
    };
    const verification = channel.verifyNotification({
      headers: request.headers,
      rawBody: typeof request.body === 'string' ? request.body : '',
      path: new URL(channelNotifyUrl(context, channel.name)).pathname,
    });
    if (!verification.ok) {
      request.log.warn({ channel: channel.name, reason: verification.reason }, 'channel callback rejected');
      return answer(false);
    }
    if (await isCallbackSpent(context.pool, channel.name, verification.replayKey)) {
      request.log.warn({ channel: channel.name, replay_key: verification.replayKey }, 'channel callback rejected: replayed');
      return answer(false);
    }
    await applyNotification(context, channel.name, verification.notification, operationHandlers, request.log);
    await spendCallback(context.pool, channel.name, verification.replayKey, verification.replayWindowMs);
    return answer(true);
  });
}
