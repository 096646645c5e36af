import { addSeconds, now } from '../clock.js';
import type { ChannelOperationQueryResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { withTransaction, type Client, type Queryable } from '../db/pool.js';
import { recordEvents, type EventRecord } from '../events/index.js';
import { enqueue } from '../jobs/index.js';
import { findApp } from '../merchant/index.js';
import { enqueueNotification } from '../notify/index.js';
import {
  closeReversedCapturedTrade,
  createPresenter,
  insertCapturedTrade,
  insertDiscrepancy,
  lockCapturedTrade,
  releaseCapturedTradeReversal,
} from '../trade/index.js';
import { jobKeys } from './job-keys.js';
import { postingFor } from './postings.js';
import { operationWithAuth } from './present.js';
import * as repository from './repository.js';
import type { AuthRow, OperationRow } from './repository.js';

/** A hold and one of its operations, as they stand. */
export interface OperationState {
  readonly auth: AuthRow;
  readonly operation: OperationRow;
}

async function currentState(client: Queryable, operation: OperationRow): Promise<OperationState> {
  return {
    auth: (await repository.findAuthByNo(client, operation.auth_no))!,
    operation: (await repository.findOperationByNo(client, operation.operation_no))!,
  };
}

/**
 * Applies what a channel said about an operation, from any source (the synchronous answer, a callback, a
 * compensation query). The operation's guarded PROCESSING -> final update decides: applying the same answer
 * twice, or two answers racing, changes state once. Returns the hold and the operation as they stand afterwards.
 */
export async function recordOperationOutcome(context: Context, operation: OperationRow, result: ChannelOperationQueryResult): Promise<OperationState> {
  const log = context.log.child({ auth_no: operation.auth_no, operation_no: operation.operation_no, kind: operation.kind });
  switch (result.status) {
    case 'SUCCEEDED': {
      if (result.amountMinor !== operation.amount_minor || result.currency !== operation.currency) {
        // The channel says it moved another sum than asked: never book it as this operation.
        log.error({ channel_amount: result.amountMinor.toString(), channel_currency: result.currency }, 'channel amount mismatch on a pre-authorization operation');
        await insertDiscrepancy(context.pool, {
          kind: 'PREAUTH_AMOUNT_MISMATCH', tradeNo: operation.trade_no, recordNo: operation.operation_no, amountMinor: result.amountMinor, currency: result.currency,
          detail: `the channel reported ${result.amountMinor} ${result.currency} for ${operation.kind}, Tongbao asked ${operation.amount_minor} ${operation.currency}`,
        });
        return currentState(context.pool, operation);
      }
      // Business times are Tongbao's own clock (see recordPayOutcome): the capture's refund window counts from it.
      return withTransaction(context.pool, (client) => recordSuccess(context, client, operation, result.channelRef, now()));
    }
    case 'FAILED':
    case 'NOT_FOUND': {
      const code = result.status === 'FAILED' ? result.code : 'NOT_FOUND_AT_CHANNEL';
      const message = result.status === 'FAILED' ? result.message : 'the channel has no record of this operation';
      return withTransaction(context.pool, (client) => recordFailure(context, client, operation, code, message));
    }
    case 'PENDING':
      await repository.noteOperationPending(context.pool, operation.operation_no, result.channelRef ?? null);
      return currentState(context.pool, operation);
    case 'UNKNOWN':
      log.warn({ reason: result.reason }, 'pre-authorization result unknown; compensation queries will resolve it');
      return currentState(context.pool, operation);
  }
}

/** Locks in the one order every transaction on a hold keeps: a captured trade, then the hold, then its operation. */
async function lockHold(client: Client, operation: OperationRow): Promise<AuthRow> {
  if (operation.kind === 'COMPLETE_CANCEL') await lockCapturedTrade(client, operation.trade_no!);
  return (await repository.findAuthByNo(client, operation.auth_no, true))!;
}

function broken(auth: AuthRow, operation: OperationRow): never {
  throw new Error(`hold ${auth.auth_no} is ${auth.status}, which cannot take the ${operation.kind} ${operation.operation_no} that succeeded on it`);
}

async function recordSuccess(context: Context, client: Client, operation: OperationRow, channelRef: string, finishedAt: Date): Promise<OperationState> {
  const auth = await lockHold(client, operation);
  const finished = await repository.finishOperation(client, operation.operation_no, 'SUCCEEDED', { channelRef, failureCode: null, failureMessage: null, finishedAt });
  if (!finished) {
    const state = await currentState(client, operation);
    if (state.operation.status === 'FAILED') await flagLateSuccess(context, client, state.operation);
    return state; // this success was recorded before
  }
  const { auth: after, operation: recorded, event } = await applySuccess(context, client, auth, finished, channelRef, finishedAt);
  await recordEvents(client, [
    { aggregateType: 'preauth_operation', aggregateId: recorded.operation_no, eventType: 'preauth_operation.succeeded', payload: { auth_no: auth.auth_no, kind: recorded.kind, channel_ref: channelRef } },
    { aggregateType: 'preauth', aggregateId: auth.auth_no, eventType: event, payload: { operation_no: recorded.operation_no, amount_minor: recorded.amount_minor, trade_no: recorded.trade_no } },
  ]);
  await notifyOperation(context, client, after, recorded);
  // The posting comes last: it locks shared balance shards, which are then held only until the commit.
  await context.ledger.post(client, postingFor(after, recorded));
  return { auth: after, operation: recorded };
}

/** Moves the hold (and the trade of a completion) as the succeeded operation says; returns the event to record. */
async function applySuccess(context: Context, client: Client, auth: AuthRow, operation: OperationRow, channelRef: string, finishedAt: Date): Promise<OperationState & { event: string }> {
  switch (operation.kind) {
    case 'FREEZE': {
      const authorized = await repository.markAuthorized(client, auth.auth_no, channelRef, finishedAt) ?? broken(auth, operation);
      await scheduleExpiry(client, authorized);
      return { auth: authorized, operation, event: 'preauth.authorized' };
    }
    case 'UNFREEZE': {
      const status = operation.initiator === 'EXPIRY' ? 'EXPIRED' : 'UNFROZEN';
      const released = await repository.markReleased(client, auth.auth_no, status, finishedAt) ?? broken(auth, operation);
      return { auth: released, operation, event: status === 'EXPIRED' ? 'preauth.expired' : 'preauth.unfrozen' };
    }
    case 'COMPLETE': {
      // '=' cannot appear in a merchant's numbers (the gateway refuses it), so this never collides with one.
      const trade = await insertCapturedTrade(client, {
        appId: auth.app_id, merchantId: auth.merchant_id, outTradeNo: `${auth.out_order_no}=${operation.out_request_no}`, currency: auth.currency,
        amountMinor: operation.amount_minor, subject: auth.subject, notifyUrl: auth.notify_url, channel: auth.channel,
        attemptNo: operation.operation_no, channelTradeNo: channelRef, paidAt: finishedAt, defaultRefundWindowDays: context.config.TONGBAO_REFUND_WINDOW_DAYS,
      });
      const recorded = await repository.noteOperationTrade(client, operation.operation_no, trade.trade_no);
      const completed = await repository.markCompleted(client, auth.auth_no, operation.amount_minor, trade.trade_no, finishedAt) ?? broken(auth, operation);
      return { auth: completed, operation: recorded, event: 'preauth.completed' };
    }
    case 'COMPLETE_CANCEL': {
      await closeReversedCapturedTrade(client, operation.trade_no!, operation.amount_minor);
      const valid = await repository.markCompletionCancelled(client, auth.auth_no) ?? broken(auth, operation);
      // Valid again until its deadline; when that has passed meanwhile, the expiry job releases it at once.
      await scheduleExpiry(client, valid);
      return { auth: valid, operation, event: 'preauth.completion_cancelled' };
    }
  }
}

async function recordFailure(context: Context, client: Client, operation: OperationRow, code: string, message: string): Promise<OperationState> {
  const auth = await lockHold(client, operation);
  const failed = await repository.finishOperation(client, operation.operation_no, 'FAILED', { channelRef: null, failureCode: code, failureMessage: message, finishedAt: now() });
  if (!failed) return currentState(client, operation);
  const events: EventRecord[] = [
    { aggregateType: 'preauth_operation', aggregateId: failed.operation_no, eventType: 'preauth_operation.failed', payload: { auth_no: auth.auth_no, kind: failed.kind, code, message } },
  ];
  let after = auth;
  if (failed.kind === 'FREEZE') {
    after = await repository.markFreezeFailed(client, auth.auth_no, now()) ?? broken(auth, failed);
    events.push({ aggregateType: 'preauth', aggregateId: auth.auth_no, eventType: 'preauth.failed', payload: { code } });
  }
  if (failed.kind === 'COMPLETE_CANCEL') await releaseCapturedTradeReversal(client, failed.trade_no!, failed.amount_minor);
  if (failed.initiator === 'EXPIRY') await scheduleExpiryRetry(context, client, auth);
  await recordEvents(client, events);
  await notifyOperation(context, client, after, failed);
  context.log.info({ auth_no: auth.auth_no, operation_no: failed.operation_no, code }, 'pre-authorization operation failed');
  return { auth: after, operation: failed };
}

/** The hold's expiry job, due at its deadline, scheduled in the transaction that makes the hold valid. */
async function scheduleExpiry(client: Client, auth: AuthRow): Promise<void> {
  await enqueue(client, 'preauth.expire', { auth_no: auth.auth_no }, { runAt: auth.expires_at, jobKey: jobKeys.expire(auth.auth_no) });
}

/** The channel refused to release an expired hold: try again on the widening compensation schedule. */
async function scheduleExpiryRetry(context: Context, client: Client, auth: AuthRow): Promise<void> {
  const schedule = context.config.compensationRetrySeconds;
  const tries = await repository.countExpiryOperations(client, auth.auth_no);
  const delay = schedule[Math.min(tries, schedule.length) - 1]!;
  await enqueue(client, 'preauth.expire', { auth_no: auth.auth_no }, { runAt: addSeconds(now(), delay), jobKey: jobKeys.expire(auth.auth_no) });
}

/**
 * The channel reports success for an operation Tongbao had marked failed (its query said the channel never
 * saw it). Money may have moved without Tongbao's books knowing: operators reconcile it.
 */
async function flagLateSuccess(context: Context, client: Client, operation: OperationRow): Promise<void> {
  context.log.error({ auth_no: operation.auth_no, operation_no: operation.operation_no }, 'late channel success on a failed pre-authorization operation');
  await insertDiscrepancy(client, {
    kind: 'PREAUTH_LATE_SUCCESS', tradeNo: operation.trade_no, recordNo: operation.operation_no, amountMinor: operation.amount_minor, currency: operation.currency,
    detail: `the channel reported ${operation.kind} ${operation.operation_no} succeeded after Tongbao recorded it failed (${operation.failure_code})`,
  });
}

/** preauth_status_sync for a finished operation, to the hold's notify_url or else the app's. */
async function notifyOperation(context: Context, client: Client, auth: AuthRow, operation: OperationRow): Promise<void> {
  await enqueueNotification(client, {
    appId: auth.app_id,
    notifyType: 'preauth_status_sync',
    tradeNo: operation.trade_no,
    refundNo: null,
    url: auth.notify_url ?? (await findApp(client, auth.app_id))?.notify_url ?? null,
    fields: operationWithAuth(createPresenter(context.config.TONGBAO_TIMEZONE), auth, operation),
  });
}
