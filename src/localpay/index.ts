/**
 * Local payment methods (账户支付, 虚币支付, 信用支付): balance, virtual coins and credit as channels that run
 * inside Tongbao, guarded by a pay password (支付密码) or password-free payments (小额免密), with credit
 * bills (账单) and repayments. tongbao.trade.pay reaches payByAccount for channel balance, coin or credit;
 * refunds of such trades reach refundToPayer through trade/local.ts.
 */
import type { Context } from '../context.js';
import type { JobHandlers } from '../jobs/index.js';
import { markOverdueBills } from './credit.js';

export { isLocalChannel, localChannelNames, refundToPayer, type LocalChannelName } from './channels.js';
export { localPayerFields, localPayMethods } from './methods.js';
export { payByAccount, type LocalPayerInput } from './pay.js';
export { localPayAdminRoutes } from './routes.js';

export function localPayJobHandlers(context: Context): Pick<JobHandlers, 'credit.sweep'> {
  return {
    /** Every minute: bills past their due date become OVERDUE. */
    async 'credit.sweep'() {
      await markOverdueBills(context);
    },
  };
}
