import { expect } from 'vitest';
import type { TestInstance } from './instance.js';

/** Calls to the account and fund methods and reads of their tables, for test/accounts*.test.ts. */
export function accountsClient(t: () => TestInstance) {
  const call = (method: string, biz: Record<string, unknown>): Promise<Record<string, any>> => t().sdk().exec(method, { bizContent: biz }, { validateSign: true });
  return {
    call,
    recharge: (outTradeNo: string, outUserId: string, amount: string, extra: Record<string, unknown> = {}) =>
      call('tongbao.fund.recharge', { out_trade_no: outTradeNo, out_user_id: outUserId, total_amount: amount, channel: 'sandbox', ...extra }),
    transfer: (outBizNo: string, from: string, to: string, amount: string, extra: Record<string, unknown> = {}) =>
      call('tongbao.fund.transfer', { out_biz_no: outBizNo, payer_out_user_id: from, payee_out_user_id: to, amount, ...extra }),
    withdraw: (outBizNo: string, outUserId: string, amount: string, extra: Record<string, unknown> = {}) =>
      call('tongbao.fund.withdraw', { out_biz_no: outBizNo, out_user_id: outUserId, amount, payee_type: 'BANK_CARD', payee_identity: '6222020202020202', ...extra }),
    async userId(outUserId: string): Promise<string> {
      return (await t().query('select user_id from users where out_user_id = $1', [outUserId]))[0]!.user_id as string;
    },
    /** The available and frozen balances of a user's account, in minor units (or coins); zeros when absent. */
    async balances(outUserId: string, type = 'WALLET', currency = 'CNY'): Promise<{ available: bigint; frozen: bigint }> {
      const [row] = await t().query(
        `select coalesce(sum(b.balance_minor) filter (where b.account_id = ua.available_account_id), 0)::bigint as available,
                coalesce(sum(b.balance_minor) filter (where b.account_id = ua.frozen_account_id), 0)::bigint as frozen
         from users u join user_accounts ua using (user_id) join ledger_balances b on b.account_id in (ua.available_account_id, ua.frozen_account_id)
         where u.out_user_id = $1 and ua.type = $2 and (ua.currency = $3 or ua.coin_unit = $3)`,
        [outUserId, type, currency],
      );
      return { available: (row?.available as bigint | undefined) ?? 0n, frozen: (row?.frozen as bigint | undefined) ?? 0n };
    },
    async accountNo(outUserId: string, type = 'WALLET'): Promise<string> {
      return (await t().query('select ua.account_no from users u join user_accounts ua using (user_id) where u.out_user_id = $1 and ua.type = $2', [outUserId, type]))[0]!.account_no as string;
    },
    /** Everything a refused call must leave as it was. */
    async snapshot() {
      const [counts] = await t().query(`select
        (select count(*) from users) as users, (select count(*) from user_accounts) as accounts, (select count(*) from trades) as trades,
        (select count(*) from fund_transfers) as transfers, (select count(*) from withdrawals) as withdrawals,
        (select count(*) from merchant_withdrawals) as merchant_withdrawals,
        (select count(*) from journal_transactions) as postings, (select count(*) from notifications) as notifications,
        (select count(*) from events) as events,
        (select string_agg(account_id || ':' || shard || ':' || balance_minor, ',' order by account_id, shard) from ledger_balances) as balances,
        (select string_agg(status, ',' order by account_id) from ledger_accounts) as statuses`);
      return counts;
    },
    /** Runs a call that must be refused with `subCode` and checks that nothing at all changed. */
    async refused(subCode: string, call: () => Promise<Record<string, any>>): Promise<Record<string, any>> {
      const before = await this.snapshot();
      const answer = await call();
      expect(answer).toMatchObject({ subCode });
      expect(await this.snapshot()).toEqual(before);
      return answer;
    },
  };
}
