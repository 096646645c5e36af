import { addSeconds, now } from '../clock.js';
import { maxPreauthHoldDays } from '../config.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents } from '../events/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { formatAmount } from '../shared/money.js';
import { parseWallClock } from '../shared/time.js';
import { tradeAmount, tradeCurrency } from '../trade/index.js';
import { requirePreauthChannel, scheduleFirstQuery, sendToChannel, type StepOutcome } from './pipeline.js';
import * as repository from './repository.js';

export interface FreezeInput {
  out_order_no: string;
  out_request_no: string;
  amount: string | number;
  currency?: string | undefined;
  subject: string;
  channel: string;
  notify_url?: string | undefined;
  expire_time?: string | undefined;
  /** Whose means of payment is held at the channel (a card token, a Stripe PaymentMethod id); never stored. */
  payer_type?: string | undefined;
  payer_id?: string | undefined;
}

/** When the hold lapses: the request's expire_time (gateway zone), else the configured hold period from now. */
function holdDeadline(context: Context, expireTime: string | undefined): Date {
  const at = now();
  if (expireTime === undefined) return addSeconds(at, context.config.preauthHoldSeconds);
  const deadline = parseWallClock(expireTime, context.config.TONGBAO_TIMEZONE);
  if (!deadline) fail(errors.invalidParameter, 'expire_time must be a real time written yyyy-MM-dd HH:mm:ss');
  if (deadline <= at) fail(errors.invalidParameter, `expire_time ${expireTime} has passed`);
  if (deadline > addSeconds(at, maxPreauthHoldDays * 86_400)) fail(errors.invalidParameter, `expire_time must be at most ${maxPreauthHoldDays} days away`);
  return deadline;
}

/**
 * tongbao.preauth.freeze: writes the hold and its FREEZE operation (PROCESSING) in one transaction, then asks
 * the channel. out_order_no is the key: the same request again returns the hold as it stands, and another
 * amount, currency, channel or out_request_no under it is refused. Parallel identical calls freeze once.
 */
export async function freeze(context: Context, app: GatewayAppRow, input: FreezeInput, commonNotifyUrl: string | null): Promise<StepOutcome> {
  const currency = tradeCurrency(input.currency);
  const amountMinor = tradeAmount(app, input.amount, currency, 'amount');
  requirePreauthChannel(context, input.channel, currency);
  const expiresAt = holdDeadline(context, input.expire_time);

  const started = await withTransaction(context.pool, async (client) => {
    const auth = await repository.insertAuth(client, {
      appId: app.app_id, merchantId: app.merchant_id, outOrderNo: input.out_order_no, channel: input.channel, currency, amountMinor,
      subject: input.subject, notifyUrl: input.notify_url ?? commonNotifyUrl, expiresAt,
    });
    if (!auth) return undefined;
    const operation = await repository.insertOperation(client, {
      authNo: auth.auth_no, kind: 'FREEZE', initiator: 'MERCHANT', outRequestNo: input.out_request_no, amountMinor, currency, tradeNo: null, reversesOperationNo: null,
    });
    await scheduleFirstQuery(context, client, operation);
    await recordEvents(client, [
      { aggregateType: 'preauth', aggregateId: auth.auth_no, eventType: 'preauth.created', payload: { out_order_no: auth.out_order_no, amount_minor: amountMinor, currency, channel: auth.channel } },
      { aggregateType: 'preauth_operation', aggregateId: operation.operation_no, eventType: 'preauth_operation.started', payload: { auth_no: auth.auth_no, kind: 'FREEZE' } },
    ]);
    return { auth, operation };
  });
  if (!started) return repeatedFreeze(context, app, input, amountMinor, currency);
  context.log.info({ auth_no: started.auth.auth_no, out_order_no: input.out_order_no }, 'pre-authorization created');
  const payer = input.payer_id === undefined ? undefined : { type: input.payer_type ?? 'default', id: input.payer_id };
  return sendToChannel(context, started.auth, started.operation, payer);
}

/** The hold already under this out_order_no, when it was asked the same way; the number reused otherwise. */
async function repeatedFreeze(context: Context, app: GatewayAppRow, input: FreezeInput, amountMinor: bigint, currency: string): Promise<StepOutcome> {
  const auth = (await repository.findAuth(context.pool, app.app_id, { outOrderNo: input.out_order_no }))!;
  const operation = await repository.findOperation(context.pool, auth.auth_no, input.out_request_no);
  if (auth.amount_minor !== amountMinor || auth.currency !== currency || auth.channel !== input.channel || operation?.kind !== 'FREEZE') {
    fail(errors.preauthOrderConflict, `out_order_no ${input.out_order_no} was already used for a freeze of ${formatAmount(auth.amount_minor, auth.currency)} ${auth.currency} through ${auth.channel} with another out_request_no or amount`);
  }
  return { auth, operation, result: null };
}
