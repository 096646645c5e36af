/**
 * The part every pre-authorization operation shares, after it was written PROCESSING: the channel is called
 * outside any transaction, and its answer is recorded through the one guarded outcome function that callbacks
 * and compensation queries use too. The query job that settles an answer that is not final was scheduled in the
 * transaction that wrote the operation, so a crash between the call and the record loses nothing.
 */
import { addSeconds, now } from '../clock.js';
import type { ChannelAdapter, ChannelFreezeResult, ChannelPreauth, ChannelPreauthFreezeRequest } from '../channels/types.js';
import type { Context } from '../context.js';
import type { Client } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { enqueue } from '../jobs/index.js';
import { channelNotifyUrl } from '../trade/index.js';
import { jobKeys } from './job-keys.js';
import { recordOperationOutcome, type OperationState } from './outcomes.js';
import * as repository from './repository.js';
import type { AuthRow, OperationRow } from './repository.js';

export interface StepOutcome extends OperationState {
  /**
   * What the channel answered this time; null when the request was answered from the records (a repeat). A
   * freeze the payer has to finish carries the payer's action.
   */
  readonly result: ChannelFreezeResult | null;
}

/** Who pays, for a freeze: passed to the channel as it is, never stored (like a pay's payer). */
export type FreezePayer = ChannelPreauthFreezeRequest['payer'];

/** The channel, which must be enabled, take pre-authorizations and take the currency. */
export function requirePreauthChannel(context: Context, name: string, currency: string): ChannelAdapter & { preauth: ChannelPreauth } {
  const channel = context.channels.get(name);
  if (!channel) fail(errors.channelNotSupported, `channel ${name} is not enabled; enabled: ${context.channels.names().join(', ') || 'none'}`);
  if (!channel.capabilities.preauth || !channel.preauth) fail(errors.channelNotSupported, `channel ${name} does not support pre-authorization`);
  if (!channel.capabilities.currencies.includes(currency)) fail(errors.channelNotSupported, `channel ${name} does not take ${currency}`);
  return channel as ChannelAdapter & { preauth: ChannelPreauth };
}

/**
 * Schedules the operation's first compensation query in the transaction that writes it, due the first
 * compensation delay after the channel call's time limit: when the answer was not final, that is when a pay
 * attempt's first query would run too. When the channel answered at once, the query finds the operation final
 * and does nothing.
 */
export async function scheduleFirstQuery(context: Context, client: Client, operation: OperationRow): Promise<void> {
  const delaySeconds = context.config.TONGBAO_CHANNEL_TIMEOUT_MS / 1000 + context.config.compensationRetrySeconds[0]!;
  await enqueue(client, 'preauth.query', { operation_no: operation.operation_no }, {
    runAt: addSeconds(now(), delaySeconds), jobKey: jobKeys.query(operation.operation_no),
  });
}

/** Calls the channel and records its answer. `payer` goes with a freeze only. */
export async function sendToChannel(context: Context, auth: AuthRow, operation: OperationRow, payer?: FreezePayer): Promise<StepOutcome> {
  const result = await callChannel(context, auth, operation, payer);
  return { ...(await recordOperationOutcome(context, operation, result)), result };
}

async function callChannel(context: Context, auth: AuthRow, operation: OperationRow, payer: FreezePayer): Promise<ChannelFreezeResult> {
  const preauth = context.channels.get(auth.channel)?.preauth;
  // Left processing: the compensation query asks again once the channel is back.
  if (!preauth) return { status: 'UNKNOWN', reason: `channel ${auth.channel} is not enabled for pre-authorization` };
  const log = context.log.child({ auth_no: auth.auth_no, operation_no: operation.operation_no, kind: operation.kind, channel: auth.channel });
  log.info('calling channel');
  const notifyUrl = channelNotifyUrl(context, auth.channel);
  const step = { operationNo: operation.operation_no, authRef: auth.channel_auth_ref!, amountMinor: operation.amount_minor, currency: operation.currency, notifyUrl };
  try {
    switch (operation.kind) {
      case 'FREEZE':
        return await preauth.freeze({
          operationNo: operation.operation_no, amountMinor: operation.amount_minor, currency: operation.currency, subject: auth.subject,
          expiresAt: auth.expires_at, notifyUrl, ...(payer ? { payer } : {}),
        });
      case 'UNFREEZE':
        return await preauth.unfreeze(step);
      case 'COMPLETE':
        return await preauth.complete(step);
      case 'COMPLETE_CANCEL': {
        const completion = await repository.findOperationByNo(context.pool, operation.reverses_operation_no!);
        return await preauth.completeCancel({ ...step, completeRef: completion!.channel_ref! });
      }
    }
  } catch (error) {
    // An adapter must not throw, but if one does the operation may have happened: treat it as unknown.
    log.error({ err: error }, 'channel adapter threw');
    return { status: 'UNKNOWN', reason: (error as Error).message };
  }
}
