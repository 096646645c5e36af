import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/pool.js';
import { channelClearing, createLedger, merchantPending } from '../src/ledger/index.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { prng, testSeed } from './helpers/random.js';

/**
 * A randomized, concurrent workload through the gateway with the official alipay-sdk: create and pay
 * (including sandbox declines and asynchronous payments), partial refunds with repeated request
 * numbers and amounts above what remains, closes and queries, about 16 at a time. Whatever the
 * interleaving, the books must agree with the trades afterwards.
 *
 * The seed is printed; rerun a failure with TONGBAO_TEST_SEED=<seed>.
 */

const seed = testSeed();
const operationCount = 240;
const concurrency = 16;
const tradeCount = 70;

const random = prng(seed);
const integer = (below: number) => Math.floor(random() * below);
const chance = (probability: number) => random() < probability;

// Amounts (minor units) that make the sandbox bank behave specially; random amounts avoid them all.
const paymentMagic = new Set([4004, 4005, 5003, 5004, 5005, 6001, 6002, 6003]);
const refundMagic = new Set([4004, 6001]);
const declined = 4004;
const asynchronous = 6001;

function ordinaryAmount(min: number, max: number, avoid: Set<number>): number {
  for (;;) {
    const amount = min + integer(max - min + 1);
    if (!avoid.has(amount)) return amount;
  }
}

const decimal = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

interface PlannedTrade {
  outTradeNo: string;
  amountMinor: number;
}

type Operation =
  | { kind: 'pay' | 'create' | 'close' | 'query'; trade: PlannedTrade }
  | { kind: 'refund'; trade: PlannedTrade; amountMinor: number; outRequestNo: string }
  | { kind: 'refund.query'; trade: PlannedTrade; outRequestNo: string };

/** The whole workload, drawn up front from the seed, so a seed always means the same requests. */
function plan(): Operation[] {
  const trades: PlannedTrade[] = Array.from({ length: tradeCount }, (_, index) => {
    // A few of each special case for sure, then a sprinkle at random.
    const amountMinor = index < 3 || chance(0.05) ? declined
      : index < 6 || chance(0.05) ? asynchronous
      : ordinaryAmount(1, 50_000, paymentMagic);
    return { outTradeNo: `rnd-${seed}-${index}`, amountMinor };
  });
  const operations: Operation[] = [];
  let introduced = 0;
  while (operations.length < operationCount) {
    // New trades appear over the run, so later operations mostly find their trade in place.
    if (introduced < tradeCount && (introduced < 8 || chance(0.3))) {
      const trade = trades[introduced++]!;
      operations.push({ kind: chance(0.85) ? 'pay' : 'create', trade });
      continue;
    }
    const trade = trades[integer(introduced)]!;
    const roll = random();
    const outRequestNo = `r${integer(3)}`;
    if (roll < 0.15) operations.push({ kind: 'pay', trade });
    else if (roll < 0.55) {
      const amountMinor = chance(0.1) ? trade.amountMinor + 1 + integer(1000) // above what was paid
        : chance(0.08) ? trade.amountMinor // everything at once
        : chance(0.04) ? [4004, 6001][integer(2)]! // a declined or delayed refund at the bank
        : ordinaryAmount(1, Math.max(1, Math.floor(trade.amountMinor * 0.4)), refundMagic);
      operations.push({ kind: 'refund', trade, amountMinor, outRequestNo });
    } else if (roll < 0.65) operations.push({ kind: 'close', trade });
    else if (roll < 0.85) operations.push({ kind: 'query', trade });
    else operations.push({ kind: 'refund.query', trade, outRequestNo });
  }
  return operations;
}

/** Every answer the gateway may give to each kind of operation; anything else fails the test. */
const allowed: Record<Operation['kind'], RegExp> = {
  pay: /^(10000:(TRADE_SUCCESS|WAIT_BUYER_PAY)|40004:(ACQ\.PAYMENT_FAIL|ACQ\.PAY_IN_PROGRESS|ACQ\.TRADE_HAS_CLOSE))$/,
  create: /^10000:(WAIT_BUYER_PAY|TRADE_SUCCESS|TRADE_CLOSED)$/,
  refund: /^(10000:(REFUND_SUCCESS|REFUND_PROCESSING|REFUND_FAILED)|40004:(ACQ\.TRADE_NOT_EXIST|ACQ\.TRADE_NOT_ALLOW_REFUND|ACQ\.REFUND_AMT_NOT_EQUAL_TOTAL|ACQ\.REFUND_REQUEST_CONFLICT))$/,
  // A close racing a payment attempt may be told to retry later (20000) rather than guess.
  close: /^(10000:TRADE_CLOSED|40004:(ACQ\.TRADE_NOT_EXIST|ACQ\.TRADE_HAS_SUCCESS)|20000:ACQ\.SYSTEM_ERROR)$/,
  query: /^(10000:(WAIT_BUYER_PAY|TRADE_SUCCESS|TRADE_CLOSED)|40004:ACQ\.TRADE_NOT_EXIST)$/,
  'refund.query': /^(10000:(REFUND_SUCCESS|REFUND_PROCESSING|REFUND_FAILED)|40004:(ACQ\.TRADE_NOT_EXIST|ACQ\.REFUND_NOT_EXIST))$/,
};

let t: TestInstance;
beforeAll(async () => {
  // Compensation queries every second, so asynchronous outcomes settle within the test.
  t = await startTestInstance({ TONGBAO_COMPENSATION_RETRY_SECONDS: '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1', TONGBAO_WORKER_CONCURRENCY: '20' });
});
afterAll(async () => { await t?.stop(); });

async function runAll<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function until(description: string, read: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > deadline) throw new Error(`${description}: not reached in ${timeoutMs} ms (seed ${seed})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function scalar(sql: string, params: unknown[] = []): Promise<bigint> {
  const [row] = await t.query<{ value: bigint | null }>(sql, params);
  return row!.value ?? 0n;
}

describe(`randomized concurrent workload (seed ${seed})`, () => {
  it('keeps trades, refunds and the ledger consistent', async () => {
    console.log(`ledger-random seed ${seed} (rerun with TONGBAO_TEST_SEED=${seed})`);
    const operations = plan();
    const sdk = t.sdk();
    const outcomes = new Map<string, number>();
    const unexpected: string[] = [];
    /** What the gateway confirmed as refunded, by trade and out_request_no. */
    const confirmedRefunds = new Map<string, number>();
    const requestedRefundAmounts = new Map<string, Set<number>>();

    await runAll(operations, concurrency, async (operation) => {
      const trade = operation.trade;
      let result: Record<string, any>;
      switch (operation.kind) {
        case 'pay':
          result = await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: trade.outTradeNo, total_amount: decimal(trade.amountMinor), subject: 'random', channel: 'sandbox' } }, { validateSign: true });
          break;
        case 'create':
          result = await sdk.exec('tongbao.trade.create', { bizContent: { out_trade_no: trade.outTradeNo, total_amount: decimal(trade.amountMinor), subject: 'random' } }, { validateSign: true });
          break;
        case 'refund': {
          const key = `${trade.outTradeNo}/${operation.outRequestNo}`;
          requestedRefundAmounts.set(key, (requestedRefundAmounts.get(key) ?? new Set()).add(operation.amountMinor));
          result = await sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: trade.outTradeNo, refund_amount: decimal(operation.amountMinor), out_request_no: operation.outRequestNo } }, { validateSign: true });
          if (result.code === '10000' && result.refundStatus === 'REFUND_SUCCESS') {
            const earlier = confirmedRefunds.get(key);
            if (earlier !== undefined && earlier !== operation.amountMinor) unexpected.push(`${key}: confirmed ${earlier} and then ${operation.amountMinor}`);
            confirmedRefunds.set(key, operation.amountMinor);
          }
          break;
        }
        case 'close':
          result = await sdk.exec('tongbao.trade.close', { bizContent: { out_trade_no: trade.outTradeNo } }, { validateSign: true });
          break;
        case 'query':
          result = await sdk.exec('tongbao.trade.query', { bizContent: { out_trade_no: trade.outTradeNo } }, { validateSign: true });
          break;
        case 'refund.query':
          result = await sdk.exec('tongbao.trade.refund.query', { bizContent: { out_trade_no: trade.outTradeNo, out_request_no: operation.outRequestNo } }, { validateSign: true });
          break;
      }
      const status = result.code === '10000' ? (result.refundStatus ?? result.tradeStatus) : result.subCode;
      const outcome = `${result.code}:${status}`;
      outcomes.set(`${operation.kind} ${outcome}`, (outcomes.get(`${operation.kind} ${outcome}`) ?? 0) + 1);
      if (!allowed[operation.kind].test(outcome)) unexpected.push(`${operation.kind} ${trade.outTradeNo} (${decimal(trade.amountMinor)}): ${outcome} ${result.subMsg ?? ''}`);
      if (operation.kind === 'pay' && trade.amountMinor === declined && result.code === '10000') unexpected.push(`pay of ${trade.outTradeNo} at 40.04 succeeded`);
    });
    console.log(`outcomes (seed ${seed}):\n${[...outcomes].sort().map(([key, count]) => `  ${key}: ${count}`).join('\n')}`);
    expect(unexpected, `seed ${seed}`).toEqual([]);
    expect([...outcomes.values()].reduce((sum, count) => sum + count, 0)).toBe(operations.length);
    expect(outcomes.get('pay 40004:ACQ.PAYMENT_FAIL') ?? 0, `seed ${seed}: the planned declines happened`).toBeGreaterThan(0);

    // Let asynchronous payments and refunds finish (callbacks and compensation queries).
    await until('payments and refunds settled', async () =>
      (await scalar("select (select count(*) from pay_attempts where status = 'PROCESSING') + (select count(*) from refunds where status = 'REFUND_PROCESSING') as value")) === 0n);

    // The whole book balances, and every stored balance equals its entries.
    const check = await t.admin('GET', '/ledger/check');
    expect(check.body, `seed ${seed}`).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });

    const trades = await t.query<{ trade_no: string; out_trade_no: string; status: string; total_amount_minor: bigint; paid_amount_minor: bigint; refund_reserved_minor: bigint; refunded_amount_minor: bigint; paid_attempt_no: string | null; close_reason: string | null }>(
      "select * from trades where out_trade_no like 'rnd-%'");
    expect(trades.length).toBeGreaterThan(tradeCount / 2);
    const refunds = await t.query<{ trade_no: string; out_request_no: string; kind: string; amount_minor: bigint; status: string }>('select * from refunds');
    for (const trade of trades) {
      const label = `${trade.out_trade_no} (seed ${seed})`;
      expect(trade.refunded_amount_minor, label).toBeLessThanOrEqual(trade.paid_amount_minor);
      expect(trade.refund_reserved_minor, `${label}: nothing is left reserved once refunds settle`).toBe(trade.refunded_amount_minor);
      const succeeded = refunds.filter((refund) => refund.trade_no === trade.trade_no && refund.kind === 'MERCHANT' && refund.status === 'REFUND_SUCCESS');
      expect(succeeded.reduce((sum, refund) => sum + refund.amount_minor, 0n), label).toBe(trade.refunded_amount_minor);
      if (trade.paid_amount_minor > 0n) {
        expect(trade.paid_amount_minor, label).toBe(trade.total_amount_minor);
        expect(trade.total_amount_minor, `${label}: a declined amount was never paid`).not.toBe(BigInt(declined));
        expect(['TRADE_SUCCESS', 'TRADE_CLOSED'], label).toContain(trade.status);
        // A paid trade closes only by being refunded in full.
        if (trade.status === 'TRADE_CLOSED') expect(trade.refunded_amount_minor, label).toBe(trade.paid_amount_minor);
      } else {
        expect(['WAIT_BUYER_PAY', 'TRADE_CLOSED'], label).toContain(trade.status);
        expect(trade.refunded_amount_minor, label).toBe(0n);
      }
    }

    // Every refund the gateway confirmed is in the books with the amount it confirmed.
    for (const [key, amountMinor] of confirmedRefunds) {
      const [outTradeNo, outRequestNo] = key.split('/');
      const trade = trades.find((row) => row.out_trade_no === outTradeNo)!;
      const refund = refunds.find((row) => row.trade_no === trade.trade_no && row.out_request_no === outRequestNo);
      expect(refund, key).toMatchObject({ status: 'REFUND_SUCCESS', amount_minor: BigInt(amountMinor) });
    }
    // One out_request_no is one refund, whatever amounts were asked with it.
    for (const refund of refunds.filter((row) => row.kind === 'MERCHANT')) {
      const trade = trades.find((row) => row.trade_no === refund.trade_no)!;
      expect(requestedRefundAmounts.get(`${trade.out_trade_no}/${refund.out_request_no}`)).toContain(Number(refund.amount_minor));
    }

    const paidTotal = trades.reduce((sum, trade) => sum + trade.paid_amount_minor, 0n);
    const refundedTotal = trades.reduce((sum, trade) => sum + trade.refunded_amount_minor, 0n);
    const paymentPostings = await scalar(
      "select sum(e.amount_minor)::bigint as value from journal_entries e join journal_transactions j using (transaction_id) where j.kind = 'PAYMENT' and e.side = 'CREDIT'");
    const merchantRefundPostings = await scalar(
      `select sum(e.amount_minor)::bigint as value from journal_entries e join journal_transactions j using (transaction_id)
       join refunds r on r.refund_no = j.reference where j.kind = 'REFUND' and r.kind = 'MERCHANT' and e.side = 'DEBIT'`);
    const allRefundPostings = await scalar(
      "select sum(e.amount_minor)::bigint as value from journal_entries e join journal_transactions j using (transaction_id) where j.kind = 'REFUND' and e.side = 'DEBIT'");
    const merchantPending = await scalar(
      "select sum(b.balance_minor)::bigint as value from ledger_accounts a join ledger_balances b using (account_id) where a.code like 'merchant:%:pending:CNY'");
    const clearing = await scalar(
      "select sum(b.balance_minor)::bigint as value from ledger_accounts a join ledger_balances b using (account_id) where a.code = 'channel:sandbox:clearing:CNY'");
    // Late successes (money taken after a close) go through suspense and are reversed; normally there are none.
    const unmatched = await scalar("select sum(e.amount_minor)::bigint as value from journal_entries e join journal_transactions j using (transaction_id) where j.kind = 'PAYMENT_UNMATCHED' and e.side = 'DEBIT'");
    const reversed = allRefundPostings - merchantRefundPostings;
    console.log(`paid ${paidTotal}, refunded ${refundedTotal}, pending ${merchantPending}, clearing ${clearing}, unmatched ${unmatched}, reversed ${reversed} (seed ${seed})`);

    expect(paymentPostings, `seed ${seed}`).toBe(paidTotal);
    expect(merchantRefundPostings, `seed ${seed}`).toBe(refundedTotal);
    expect(paymentPostings - merchantRefundPostings, `seed ${seed}: payments minus refunds is what merchants are owed`).toBe(merchantPending);
    expect(clearing, `seed ${seed}: the channel owes what was paid less what was refunded`).toBe(paidTotal - refundedTotal + unmatched - reversed);

    // One PAYMENT posting per paid trade, on the attempt that paid it, for the trade's amount.
    const payments = await t.query<{ reference: string; amount_minor: bigint }>(
      "select j.reference, e.amount_minor from journal_transactions j join journal_entries e using (transaction_id) where j.kind = 'PAYMENT' and e.side = 'DEBIT'");
    const paidTrades = trades.filter((trade) => trade.paid_amount_minor > 0n && (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_CLOSED'));
    expect(payments.length, `seed ${seed}`).toBe(paidTrades.length);
    const paymentByAttempt = new Map(payments.map((payment) => [payment.reference, payment.amount_minor]));
    for (const trade of paidTrades) expect(paymentByAttempt.get(trade.paid_attempt_no!), trade.out_trade_no).toBe(trade.paid_amount_minor);
    expect(paidTrades.length, `seed ${seed}: some trades were paid`).toBeGreaterThan(0);
  });
});

describe('first postings to accounts that do not exist yet', () => {
  it('creates each account once when many postings race to create it', async () => {
    const pool = t.instance.context.pool;
    for (let round = 0; round < 5; round++) {
      // A fresh ledger each time (an empty account cache), as a freshly started process has.
      const ledgers = Array.from({ length: 12 }, () => createLedger());
      const merchant = `race-${seed}-${round}`;
      const results = await Promise.allSettled(ledgers.map((ledger, index) => withTransaction(pool, (client) => ledger.post(client, {
        kind: 'TEST', reference: `${merchant}-${index}`, currency: 'CNY',
        entries: [
          { account: channelClearing(`race${round}`, 'CNY'), side: 'DEBIT', amountMinor: 100n },
          { account: merchantPending(merchant, 'CNY'), side: 'CREDIT', amountMinor: 100n },
        ],
      }))));
      expect(results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason)), `round ${round}`).toEqual([]);
      expect(await scalar("select sum(b.balance_minor)::bigint as value from ledger_accounts a join ledger_balances b using (account_id) where a.code = $1", [merchantPending(merchant, 'CNY').code])).toBe(1200n);
    }
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('does not remember an account whose creating transaction rolled back', async () => {
    const pool = t.instance.context.pool;
    const ledger = createLedger();
    const posting = (reference: string) => ({
      kind: 'TEST', reference, currency: 'CNY',
      entries: [
        { account: channelClearing('rollback', 'CNY'), side: 'DEBIT' as const, amountMinor: 5n },
        { account: merchantPending(`rollback-${seed}`, 'CNY'), side: 'CREDIT' as const, amountMinor: 5n },
      ],
    });
    await expect(withTransaction(pool, async (client) => {
      await ledger.post(client, posting(`rollback-${seed}-1`));
      throw new Error('abort the business transaction');
    })).rejects.toThrow('abort');
    expect(await scalar('select count(*) as value from ledger_accounts where code = $1', [merchantPending(`rollback-${seed}`, 'CNY').code])).toBe(0n);
    await withTransaction(pool, (client) => ledger.post(client, posting(`rollback-${seed}-2`)));
    expect(await scalar("select sum(b.balance_minor)::bigint as value from ledger_accounts a join ledger_balances b using (account_id) where a.code = $1", [merchantPending(`rollback-${seed}`, 'CNY').code])).toBe(5n);
  });
});
