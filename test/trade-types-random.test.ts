import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';
import { prng, testSeed } from './helpers/random.js';

/**
 * Every trade type at once: hundreds of seeded, concurrent operations through the gateway — instant payments
 * with profit sharing, partly escrowed payments, partial settlements, confirmations, refunds, cancels, and
 * pre-authorization freezes, completions, unfreezes and completion cancels — with repeated and conflicting
 * request numbers. Whatever the interleaving, the books must balance and agree with the records.
 *
 * The seed is printed; rerun a failure with TONGBAO_TEST_SEED=<seed>.
 */
const seed = testSeed();
const operationCount = 320;
const concurrency = 12;
const tradeCount = 40;
const holdCount = 20;

const random = prng(seed);
const integer = (below: number) => Math.floor(random() * below);
const pick = <T>(items: readonly T[]): T => items[integer(items.length)]!;
/** Amounts from 100.00 up: far from every sandbox magic amount (all below 80.00). */
const amount = (maxMinor: number) => 10_000 + integer(maxMinor - 10_000);
const decimal = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

type Call = { method: string; biz: Record<string, unknown> };

let t: TestInstance;
let receiver: string;
beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_DB_POOL_SIZE: '40' });
  receiver = (await t.admin('POST', '/merchants', { name: 'Receiver' })).body.merchant_id;
});
afterAll(async () => { await t?.stop(); });

function plan(): Call[] {
  const trades = Array.from({ length: tradeCount }, (_, index) => {
    const total = amount(90_000);
    const escrow = index % 2 === 0;
    return { outTradeNo: `mix-${seed}-${index}`, total, escrow };
  });
  // Each hold is completed for one fixed amount (or, now and then, more than held), so a completion cancel can name it exactly.
  const holds = Array.from({ length: holdCount }, (_, index) => {
    const held = amount(60_000);
    return { outOrderNo: `hold-${seed}-${index}`, held, capture: Math.max(100, Math.floor(held * (0.3 + random() * 0.7))) };
  });
  const calls: Call[] = [];
  // Every trade and hold starts first (a step on something that does not exist yet is a refusal to test too).
  for (const trade of trades) {
    const base = { out_trade_no: trade.outTradeNo, total_amount: decimal(trade.total), subject: 'mix', channel: 'sandbox' };
    calls.push({
      method: 'tongbao.trade.pay',
      biz: trade.escrow
        ? { ...base, trade_type: 'ESCROW', escrow_amount: decimal(Math.max(100, integer(trade.total) + 1)) }
        : { ...base, royalty_parameters: [{ trans_in_type: 'MERCHANT', trans_in: receiver, amount: decimal(integer(trade.total / 4) + 1) }, { trans_in_type: 'PLATFORM', amount: '1.00' }] },
    });
  }
  for (const hold of holds) {
    calls.push({ method: 'tongbao.preauth.freeze', biz: { out_order_no: hold.outOrderNo, out_request_no: 'f', amount: decimal(hold.held), subject: 'deposit', channel: 'sandbox' } });
  }
  while (calls.length < operationCount) {
    const roll = random();
    if (roll < 0.55) {
      const trade = pick(trades);
      const requestNo = `r${integer(4)}`;
      const kind = random();
      if (kind < 0.3) calls.push({ method: 'tongbao.trade.refund', biz: { out_trade_no: trade.outTradeNo, refund_amount: decimal(amount(trade.total / 2 + 10_001)), out_request_no: requestNo } });
      else if (kind < 0.6 && trade.escrow) calls.push({ method: 'tongbao.trade.settle', biz: { out_trade_no: trade.outTradeNo, out_request_no: `s${integer(4)}`, settle_amount: decimal(100 + integer(trade.total / 3)) } });
      else if (kind < 0.65 && trade.escrow) calls.push({ method: 'tongbao.trade.confirm', biz: { out_trade_no: trade.outTradeNo } });
      else if (kind < 0.7) calls.push({ method: 'tongbao.trade.cancel', biz: { out_trade_no: trade.outTradeNo } });
      else calls.push({ method: 'tongbao.trade.query', biz: { out_trade_no: trade.outTradeNo } });
    } else {
      const hold = pick(holds);
      const requestNo = `op${integer(5)}`;
      const kind = random();
      const capture = random() < 0.1 ? hold.held + 1 : hold.capture;
      if (kind < 0.45) calls.push({ method: 'tongbao.preauth.complete', biz: { out_order_no: hold.outOrderNo, out_request_no: requestNo, amount: decimal(capture) } });
      else if (kind < 0.6) calls.push({ method: 'tongbao.preauth.unfreeze', biz: { out_order_no: hold.outOrderNo, out_request_no: requestNo, amount: decimal(hold.held) } });
      else calls.push({ method: 'tongbao.preauth.complete.cancel', biz: { out_order_no: hold.outOrderNo, out_request_no: requestNo, amount: decimal(capture) } });
    }
  }
  return calls;
}

/** Answers the workload may get: success, or a business refusal with a registered code. Nothing else. */
const expectedCodes = new Set(['10000', '40004']);

describe('every trade type at once', () => {
  it(`keeps the books balanced and in agreement with trades, settlements and holds (seed ${seed})`, async () => {
    const calls = plan();
    const answers: Record<string, number> = {};
    const unexpected: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < calls.length) {
        const call = calls[next++]!;
        const answer = await t.sdk().exec(call.method, { bizContent: call.biz }, { validateSign: true });
        const key = `${call.method} ${answer.code}${answer.subCode ? `:${answer.subCode}` : ''}`;
        answers[key] = (answers[key] ?? 0) + 1;
        if (!expectedCodes.has(answer.code)) unexpected.push(`${key} ${answer.subMsg ?? ''} ${JSON.stringify(call.biz)}`);
      }
    }));
    console.log(`seed ${seed}:`, Object.entries(answers).sort().map(([key, count]) => `${key} ×${count}`).join(', '));
    expect(unexpected, `seed ${seed}`).toEqual([]);
    expect(Object.keys(answers).some((key) => key.startsWith('tongbao.trade.settle 10000')), 'some settlements went through').toBe(true);
    expect(Object.keys(answers).some((key) => key.startsWith('tongbao.preauth.complete 10000')), 'some completions went through').toBe(true);
    expect(Object.keys(answers).some((key) => key.startsWith('tongbao.preauth.complete.cancel 10000')), 'some completion cancels went through').toBe(true);

    // Everything reached a final state (the sandbox answers synchronously for these amounts).
    await until(() => t.query(`select
      (select count(*) from pay_attempts where status = 'PROCESSING') + (select count(*) from refunds where status = 'REFUND_PROCESSING')
      + (select count(*) from preauth_operations where status = 'PROCESSING') as open`), (rows) => rows[0]!.open === 0n, 30_000);

    const check = await t.admin('GET', '/ledger/check');
    expect(check.body, `seed ${seed}`).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });

    const balance = async (code: string) => BigInt((await t.query('select coalesce(sum(b.balance_minor), 0)::text as v from ledger_accounts a join ledger_balances b using (account_id) where a.code = $1', [code]))[0]!.v);
    const [sums] = await t.query(`select
      coalesce(sum(escrow_amount_minor - settled_amount_minor - escrow_refunded_minor) filter (where paid_amount_minor > 0), 0)::text as escrow_left,
      count(*) filter (where refunded_amount_minor > paid_amount_minor or settled_amount_minor + escrow_refunded_minor > escrow_amount_minor) as broken
      from trades`);
    expect(sums!.broken, `seed ${seed}: a trade refunded or settled beyond its money`).toBe(0n);
    expect(await balance('platform:escrow:CNY'), `seed ${seed}: escrow holds exactly what trades have not settled or refunded`).toBe(BigInt(sums!.escrow_left));
    const [held] = await t.query("select coalesce(sum(amount_minor), 0)::text as v from preauth_auths where status = 'AUTHORIZED'");
    const merchantId = (await t.query('select merchant_id from apps where app_id = $1', [t.demo.app_id]))[0]!.merchant_id;
    expect(await balance(`merchant:${merchantId}:preauth_held:CNY`), `seed ${seed}: the memo holds equal the authorized holds`).toBe(BigInt(held!.v));
    expect(await t.query("select trade_no from pay_attempts where status = 'SUCCEEDED' group by trade_no having count(*) > 1"), `seed ${seed}: a trade paid twice`).toEqual([]);
    const [completed] = await t.query(`select count(*) as bad from preauth_auths a where a.status = 'COMPLETED'
      and a.completed_amount_minor <> (select coalesce(sum(paid_amount_minor), 0) from trades t where t.trade_no = a.trade_no)`);
    expect(completed!.bad, `seed ${seed}: a completion and its trade disagree`).toBe(0n);
  });
});
