import type { TestInstance } from './instance.js';

/** Calls to the pre-authorization methods and reads of their tables, for test/preauth*.test.ts. */
export function preauthClient(t: () => TestInstance, notifyUrl: () => string | undefined) {
  const call = (method: string, biz: Record<string, unknown>) => t().sdk().exec(method, { bizContent: biz }, { validateSign: true });
  const step = (method: string) => (outOrderNo: string, outRequestNo: string, amount: string, extra: Record<string, unknown> = {}) =>
    call(method, { out_order_no: outOrderNo, out_request_no: outRequestNo, amount, ...extra });
  return {
    call,
    freeze: (outOrderNo: string, amount: string, extra: Record<string, unknown> = {}) => {
      const url = notifyUrl();
      return call('tongbao.preauth.freeze', {
        out_order_no: outOrderNo, out_request_no: `${outOrderNo}-freeze`, amount, subject: 'hotel deposit', channel: 'sandbox',
        ...(url === undefined ? {} : { notify_url: url }), ...extra,
      });
    },
    unfreeze: step('tongbao.preauth.unfreeze'),
    complete: step('tongbao.preauth.complete'),
    cancel: step('tongbao.preauth.complete.cancel'),
    async auth(outOrderNo: string) {
      return (await t().query('select * from preauth_auths where out_order_no = $1', [outOrderNo]))[0]!;
    },
    async operations(outOrderNo: string) {
      return t().query('select o.* from preauth_operations o join preauth_auths a using (auth_no) where a.out_order_no = $1 order by o.created_at, o.operation_no', [outOrderNo]);
    },
    /** The balance of a ledger account, by code; 0 for an account never posted to. */
    async balance(code: string): Promise<bigint> {
      const [row] = await t().query("select coalesce(sum(b.balance_minor), 0)::bigint as balance from ledger_accounts a join ledger_balances b using (account_id) where a.code = $1", [code]);
      return row!.balance as bigint;
    },
    async merchantId(): Promise<string> {
      return (await t().query('select merchant_id from apps where app_id = $1', [t().demo.app_id]))[0]!.merchant_id as string;
    },
    /** Everything a refused call must leave as it was. */
    async snapshot() {
      const [counts] = await t().query(`select
        (select count(*) from preauth_auths) as auths, (select count(*) from preauth_operations) as operations,
        (select count(*) from trades) as trades, (select count(*) from refunds) as refunds,
        (select count(*) from journal_transactions) as postings, (select count(*) from notifications) as notifications,
        (select count(*) from events) as events,
        (select string_agg(auth_no || ':' || status || ':' || completed_amount_minor, ',' order by auth_no) from preauth_auths) as holds,
        (select string_agg(trade_no || ':' || status || ':' || refund_reserved_minor, ',' order by trade_no) from trades) as trade_states`);
      return counts;
    },
  };
}

export { until } from './wait.js';
