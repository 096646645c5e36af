import type { Context } from '../context.js';
import type { JobHandlers } from '../jobs/index.js';
import * as repository from './repository.js';
import { scheduleSettle, settleDebit } from './withhold.js';

/**
 * agreement.debit.settle: settles a withholding reservation once its payment is final. While the payment is
 * still at the channel it looks again on the compensation schedule; after the last delay the reservation is
 * left RESERVED (money may have moved, so its room is not given back) and logged for operators.
 */
export function agreementJobHandlers(context: Context): Pick<JobHandlers, 'agreement.debit.settle'> {
  return {
    'agreement.debit.settle': async ({ agreement_no: agreementNo, out_trade_no: outTradeNo, round }) => {
      const agreement = await repository.findAgreementByNo(context.pool, agreementNo);
      if (!agreement) return;
      const stillReserved = await settleDebit(context, agreement.app_id, agreementNo, outTradeNo, { reserver: false });
      if (!stillReserved) return;
      const delays = context.config.compensationRetrySeconds;
      if (round >= delays.length) {
        context.log.warn({ agreement_no: agreementNo, out_trade_no: outTradeNo }, 'withholding debit still unresolved after the last query; its reservation is kept');
        return;
      }
      await scheduleSettle(context, context.pool, agreementNo, outTradeNo, delays[round]!, round + 1);
    },
  };
}
