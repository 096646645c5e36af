import { addSeconds, now } from '../clock.js';
import type { Context } from '../context.js';
import { errors, TongbaoError } from '../errors.js';
import { enqueue, type JobHandlers } from '../jobs/index.js';
import { insertDiscrepancy } from '../trade/index.js';
import { jobKeys } from './job-keys.js';
import { recordOperationOutcome } from './outcomes.js';
import * as repository from './repository.js';
import { expireHold } from './steps.js';

/** Bounded work per sweep; a backlog drains over successive minutes. */
const sweepBatchSize = 500;

/** The pre-authorization domain's background jobs: compensation queries, hold expiry, and the sweep. */
export function preauthJobHandlers(context: Context): Pick<JobHandlers, 'preauth.query' | 'preauth.expire' | 'preauth.sweep'> {
  const schedule = context.config.compensationRetrySeconds;
  return {
    /**
     * Every minute (graphile-worker cron), a safety net: authorized holds past their deadline without an
     * expiry job, and operations still processing that nobody is querying, get their job again.
     */
    async 'preauth.sweep'() {
      const at = now();
      const staleBefore = new Date(at.getTime() - context.config.TONGBAO_CHANNEL_TIMEOUT_MS * 2);
      for (const authNo of await repository.listOverdueAuths(context.pool, at, schedule.length, sweepBatchSize)) {
        await enqueue(context.pool, 'preauth.expire', { auth_no: authNo }, { jobKey: jobKeys.expire(authNo), preserveRunAt: true });
      }
      for (const operationNo of await repository.listStaleOperations(context.pool, staleBefore, schedule.length, sweepBatchSize)) {
        await enqueue(context.pool, 'preauth.query', { operation_no: operationNo }, { jobKey: jobKeys.query(operationNo), preserveRunAt: true });
      }
    },

    /**
     * Releases an authorized hold at its deadline through the channel (an UNFREEZE by Tongbao; the hold becomes
     * EXPIRED). A refusal by the channel is retried on the compensation schedule; past its end, operators are
     * alerted with a discrepancy. While another operation is at the channel, it waits for it.
     */
    async 'preauth.expire'({ auth_no }) {
      const auth = await repository.findAuthByNo(context.pool, auth_no);
      if (!auth || auth.status !== 'AUTHORIZED') return;
      if (auth.expires_at > now()) {
        await enqueue(context.pool, 'preauth.expire', { auth_no }, { runAt: auth.expires_at, jobKey: jobKeys.expire(auth_no) });
        return;
      }
      const tries = await repository.countExpiryOperations(context.pool, auth_no);
      if (tries >= schedule.length) {
        const flagged = await insertDiscrepancy(context.pool, {
          kind: 'PREAUTH_EXPIRY_UNRESOLVED', tradeNo: null, recordNo: auth_no, amountMinor: auth.amount_minor, currency: auth.currency,
          detail: `the channel refused to release the expired hold ${auth_no} ${tries} times`,
        });
        if (flagged) context.log.error({ auth_no }, 'expired hold not released after every try');
        return;
      }
      try {
        await expireHold(context, auth, tries);
      } catch (error) {
        if (!(error instanceof TongbaoError)) throw error;
        if (error.definition === errors.preauthOperationInProgress) {
          await enqueue(context.pool, 'preauth.expire', { auth_no }, { runAt: addSeconds(now(), schedule[0]!), jobKey: jobKeys.expire(auth_no) });
        }
        // Any other refusal means the hold left AUTHORIZED meanwhile (completed or unfrozen): nothing to release.
      }
    },

    async 'preauth.query'({ operation_no }) {
      const operation = await repository.findOperationByNo(context.pool, operation_no);
      if (!operation || operation.status !== 'PROCESSING') return;
      const auth = (await repository.findAuthByNo(context.pool, operation.auth_no))!;
      const preauth = context.channels.get(auth.channel)?.preauth;
      const result = preauth ? await preauth.query(operation_no) : ({ status: 'UNKNOWN', reason: `channel ${auth.channel} is not enabled for pre-authorization` } as const);
      // "Not found" soon after the call may only mean the request has not arrived yet.
      const safeResult = result.status === 'NOT_FOUND' && now().getTime() - operation.created_at.getTime() <= context.config.TONGBAO_CHANNEL_TIMEOUT_MS * 2
        ? ({ status: 'UNKNOWN', reason: 'not found yet; the original request may still be on its way' } as const)
        : result;
      const { operation: after } = await recordOperationOutcome(context, operation, safeResult);
      if (after.status === 'PROCESSING') await scheduleNextQuery(context, after.operation_no, after.amount_minor, after.currency);
    },
  };
}

/**
 * The next compensation query on the widening schedule. Past the last step the operation is flagged for
 * operators; it is never failed silently while the channel may have acted on it.
 */
async function scheduleNextQuery(context: Context, operationNo: string, amountMinor: bigint, currency: string): Promise<void> {
  const count = await repository.countOperationQuery(context.pool, operationNo);
  const delay = context.config.compensationRetrySeconds[count];
  if (delay === undefined) {
    await insertDiscrepancy(context.pool, {
      kind: 'PREAUTH_UNRESOLVED', tradeNo: null, recordNo: operationNo, amountMinor, currency,
      detail: `the channel gave no final result for pre-authorization operation ${operationNo} after ${count} queries`,
    });
    context.log.error({ operation_no: operationNo }, 'pre-authorization operation unresolved after all compensation queries');
    return;
  }
  await enqueue(context.pool, 'preauth.query', { operation_no: operationNo }, { runAt: addSeconds(now(), delay), jobKey: jobKeys.query(operationNo) });
}
