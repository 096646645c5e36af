import { accountBalance } from '../../src/ledger/index.js';
import { startTestInstance, type TestInstance } from './instance.js';

/**
 * A Tongbao for escrow and profit-sharing tests: the demo merchant (with a long confirm period, so only
 * the tests that mean to see the automatic settlement see it), two receiving merchants and a frozen one.
 * The platform default confirm period is one second (TONGBAO_ESCROW_CONFIRM_SECONDS), so a trade paid while
 * the demo merchant has no period of its own settles by itself almost at once.
 */
export interface EscrowFixture {
  t: TestInstance;
  merchantId: string;
  receiverA: string;
  receiverB: string;
  frozenMerchant: string;
  /** One gateway call through alipay-sdk, with the response signature checked. */
  exec(method: string, biz: Record<string, unknown>): Promise<Record<string, any>>;
  /** Ledger balances (minor units, 0 for an account not yet created) of the accounts the tests watch. */
  balances(): Promise<Balances>;
  tradeOf(outTradeNo: string): Promise<Record<string, any>>;
  until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs?: number): Promise<T>;
}

export type Balances = Record<'escrow' | 'merchant' | 'receiverA' | 'receiverB' | 'platformFee' | 'clearing', bigint>;

export const longConfirmSeconds = 864000;

export async function startEscrowFixture(): Promise<EscrowFixture> {
  const t = await startTestInstance({ TONGBAO_ESCROW_CONFIRM_SECONDS: '1' });
  const [app] = await t.query('select merchant_id from apps where app_id = $1', [t.demo.app_id]);
  const merchantId = app!.merchant_id as string;
  const patched = await t.admin('PATCH', `/merchants/${merchantId}`, { escrow_confirm_seconds: longConfirmSeconds });
  if (patched.status !== 200) throw new Error(`could not set the confirm period: ${JSON.stringify(patched.body)}`);
  const newMerchant = async (name: string) => (await t.admin('POST', '/merchants', { name })).body.merchant_id as string;
  const receiverA = await newMerchant('Receiver A');
  const receiverB = await newMerchant('Receiver B');
  const frozenMerchant = await newMerchant('Frozen receiver');
  await t.admin('POST', `/merchants/${frozenMerchant}/freeze`);

  const codes: Record<keyof Balances, string> = {
    escrow: 'platform:escrow:CNY',
    merchant: `merchant:${merchantId}:pending:CNY`,
    receiverA: `merchant:${receiverA}:pending:CNY`,
    receiverB: `merchant:${receiverB}:pending:CNY`,
    platformFee: 'platform:fee-income:CNY',
    clearing: 'channel:sandbox:clearing:CNY',
  };
  return {
    t, merchantId, receiverA, receiverB, frozenMerchant,
    exec: (method, biz) => t.sdk().exec(method, { bizContent: biz }, { validateSign: true }),
    async balances() {
      const entries = await Promise.all(Object.entries(codes).map(async ([name, code]) => [name, (await accountBalance(t.instance.context.pool, code)) ?? 0n] as const));
      return Object.fromEntries(entries) as Balances;
    },
    async tradeOf(outTradeNo) {
      return (await t.query('select * from trades where out_trade_no = $1', [outTradeNo]))[0]!;
    },
    async until(read, accept, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await read();
        if (accept(value)) return value;
        if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** How each watched balance moved between two snapshots. */
export function moved(before: Balances, after: Balances): Balances {
  return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - before[name as keyof Balances]])) as Balances;
}

/** Row counts of everything a refused escrow or royalty request must leave untouched. */
export async function footprint(t: TestInstance): Promise<Record<string, bigint>> {
  const [row] = await t.query(
    `select (select count(*) from trades) as trades, (select count(*) from pay_attempts) as attempts,
            (select count(*) from settlements) as settlements, (select count(*) from royalty_splits) as splits,
            (select count(*) from refunds) as refunds, (select count(*) from journal_transactions) as transactions,
            (select count(*) from notifications) as notifications,
            (select coalesce(sum(settled_amount_minor), 0)::bigint from trades) as settled,
            (select coalesce(sum(escrow_refund_reserved_minor), 0)::bigint from trades) as escrow_refund_reserved`,
  );
  return row as Record<string, bigint>;
}
