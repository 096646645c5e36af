import { now } from '../clock.js';
import type { Context } from '../context.js';
import { enqueue, type JobHandlers } from '../jobs/index.js';
import { merchantWithdrawals } from './merchant-withdrawals.js';
import { listStaleWithdrawals, queryWithdrawal, withdrawJobKey } from './withdrawal-books.js';
import { userWithdrawals } from './withdrawals.js';

/** Bounded work per sweep and per book; a backlog drains over successive minutes. */
const sweepBatchSize = 500;

/** The account domain's background jobs: withdrawal compensation queries (users' and merchants') and their safety net. */
export function accountJobHandlers(context: Context): Pick<JobHandlers, 'fund.withdraw.query' | 'fund.sweep'> {
  return {
    async 'fund.withdraw.query'({ withdraw_no, book }) {
      if (book === 'MERCHANT') await queryWithdrawal(context, merchantWithdrawals, withdraw_no);
      else await queryWithdrawal(context, userWithdrawals, withdraw_no);
    },

    /** Every minute: withdrawals still processing with no query scheduled (the process died after the hold) get one. */
    async 'fund.sweep'() {
      const staleBefore = new Date(now().getTime() - context.config.TONGBAO_CHANNEL_TIMEOUT_MS * 2);
      for (const book of [userWithdrawals, merchantWithdrawals]) {
        for (const withdrawNo of await listStaleWithdrawals(context.pool, book, staleBefore, context.config.compensationRetrySeconds.length, sweepBatchSize)) {
          await enqueue(context.pool, 'fund.withdraw.query', { withdraw_no: withdrawNo, book: book.name }, { jobKey: withdrawJobKey(withdrawNo), preserveRunAt: true });
        }
      }
    },
  };
}
