import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { accountsClient } from './helpers/accounts.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/preauth.js';
import { prng, testSeed } from './helpers/random.js';

let t: TestInstance;
const a = accountsClient(() => t);
const seed = testSeed();
const random = prng(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const password = '482915';

beforeAll(async () => {
  // A low scrypt cost: this test is about money under concurrency, and the machine is shared.
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5,1,1', TONGBAO_PAY_PASSWORD_SCRYPT_COST: '1024' });
});
afterAll(async () => {
  await t?.stop();
});

const okRefusals = [
  'ACCOUNT.BALANCE_NOT_ENOUGH', 'ACCOUNT.CREDIT_LIMIT_EXCEEDED', 'ACQ.PAYMENT_FAIL', 'CREDIT.REPAY_AMOUNT_EXCEEDED', 'ACCOUNT.PAY_PASSWORD_REQUIRED',
  // half of a coin order's amount may need part of a coin
  'ACCOUNT.COIN_FRACTION',
];

function pay(outTradeNo: string, user: string, amount: string, channel: string) {
  // Most payments go password-free (under 20.00); the others give the password.
  const withPassword = Number(amount) > 20 || random() < 0.3;
  return a.call('tongbao.trade.pay', {
    out_trade_no: outTradeNo, total_amount: amount, subject: 'random', channel, out_user_id: user,
    ...(channel === 'coin' ? { coin_unit: 'GOLD' } : {}), ...(withPassword ? { pay_password: password } : {}),
  });
}

it(`many users paying by balance, coins and credit, refunded and repaying, while others recharge and transfer, lose and double nothing (seed ${seed})`, async () => {
  const users = Array.from({ length: 8 }, (_, index) => `lpr-${index}`);
  expect((await t.admin('PUT', `/apps/${t.demo.app_id}/coin-units/GOLD`, { name: 'Gold', currency: 'CNY', coins_per_unit: 10 })).status).toBe(200);
  expect((await t.admin('PUT', `/apps/${t.demo.app_id}/nopassword-limits/CNY`, { max_single: '20.00', max_daily: '100000.00' })).status).toBe(200);
  await Promise.all(users.map(async (user, index) => {
    await a.recharge(`lpr-rc-${index}`, user, pick(['100.00', '250.00', '60.01', '80.00']));
    await a.recharge(`lpr-coin-${index}`, user, pick(['5.00', '10.00']), { account_type: 'COIN', coin_unit: 'GOLD' });
    await a.call('tongbao.user.paypassword.set', { out_user_id: user, pay_password: password });
    await a.call('tongbao.user.nopassword.set', { out_user_id: user, enabled: true, single_limit: '20.00', pay_password: password });
    const userId = await a.userId(user);
    await t.admin('POST', `/users/${userId}/credit-account`, { currency: 'CNY', credit_limit: pick(['50.00', '100.00']), reason: 'random' });
  }));
  // A first round of payments to refund during the second.
  const channels = ['balance', 'coin', 'credit'] as const;
  const first = await Promise.all(Array.from({ length: 16 }, (_, index) => pay(`lpr-first-${index}`, pick(users), pick(['1.00', '2.50', '8.00', '30.00']), pick(channels))));
  const refundable = first.filter((answer) => answer.code === '10000').map((answer) => ({ tradeNo: answer.tradeNo as string, amount: Number(answer.totalAmount) }));

  const orders: { outTradeNo: string; user: string; amount: string; channel: string }[] = [];
  const operations = Array.from({ length: 80 }, (_, index) => {
    const user = pick(users);
    const roll = random();
    if (roll < 0.1) return a.recharge(`lpr-rc-more-${index}`, user, pick(['10.00', '20.00', '60.01']));
    if (roll < 0.25) return a.transfer(`lpr-tr-${index}`, user, pick(users.filter((other) => other !== user)), pick(['1.00', '5.00', '12.34']));
    if (roll < 0.35 && refundable.length > 0) {
      const trade = refundable.splice(Math.floor(random() * refundable.length), 1)[0]!;
      return a.call('tongbao.trade.refund', { trade_no: trade.tradeNo, refund_amount: pick([trade.amount, trade.amount / 2]).toFixed(2), out_request_no: `lpr-rf-${index}` });
    }
    if (roll < 0.45) return a.call('tongbao.credit.repay', { out_user_id: user, out_request_no: `lpr-rp-${index}`, amount: pick(['1.00', '5.00', '20.00']) });
    // The same order twice at once sometimes: it is charged once.
    const order = roll < 0.5 && orders.length > 0 ? orders.at(-1)! : { outTradeNo: `lpr-pay-${index}`, user, amount: pick(['0.50', '1.00', '4.20', '12.00', '35.00']), channel: pick(channels) };
    orders.push(order);
    return pay(order.outTradeNo, order.user, order.amount, order.channel);
  });
  const answers = await Promise.all(operations);
  for (const answer of answers) {
    // Every answer is a success or a precise business refusal, never an internal error.
    expect(['10000', '40004'], JSON.stringify(answer)).toContain(answer.code);
    if (answer.code === '40004') expect(okRefusals, JSON.stringify(answer)).toContain(answer.subCode);
  }
  await until(() => t.query("select count(*)::int as open from pay_attempts where status = 'PROCESSING'"), (rows) => rows[0]!.open === 0, 30_000);

  const [negative] = await t.query("select count(*)::int as n from ledger_balances b join ledger_accounts a using (account_id) where a.owner_type = 'USER' and b.balance_minor < 0");
  expect(negative).toEqual({ n: 0 });
  // Wallets hold what came in (recharges, refunds) less what went out (balance payments, repayments); transfers move it between users.
  const [wallets] = await t.query(`select
    (select coalesce(sum(b.balance_minor), 0) from ledger_balances b join user_accounts ua on b.account_id in (ua.available_account_id, ua.frozen_account_id) where ua.type = 'WALLET')::bigint as held,
    (select coalesce(sum(t.paid_amount_minor), 0) from trades t join user_accounts ua on ua.account_no = t.recharge_account_no where ua.type = 'WALLET')::bigint as recharged,
    (select coalesce(sum(units), 0) from local_payments where channel = 'balance')::bigint as paid,
    (select coalesce(sum(amount_minor), 0) from refunds where channel in ('balance', 'credit') and status = 'REFUND_SUCCESS')::bigint as refunded,
    (select coalesce(sum(refunded_minor), 0) from credit_bills)::bigint as refunded_to_line,
    (select coalesce(sum(amount_minor), 0) from credit_repayments)::bigint as repaid`);
  const w = wallets as Record<string, bigint>;
  expect(w.held).toBe(w.recharged! - w.paid! + w.refunded! - w.refunded_to_line! - w.repaid!);
  // Coins: issued by recharges, spent by payments, given back by refunds at the rule of their payment.
  const [coins] = await t.query(`select
    (select coalesce(sum(b.balance_minor), 0) from ledger_balances b join user_accounts ua on b.account_id in (ua.available_account_id, ua.frozen_account_id) where ua.type = 'COIN')::bigint as held,
    (select coalesce(sum(t.recharge_units), 0) from trades t join user_accounts ua on ua.account_no = t.recharge_account_no where ua.type = 'COIN' and t.status <> 'WAIT_BUYER_PAY' and t.paid_at is not null)::bigint as issued,
    (select coalesce(sum(units), 0) from local_payments where channel = 'coin')::bigint as spent,
    (select coalesce(sum(r.amount_minor * lp.coins_per_unit / 100), 0) from refunds r join local_payments lp using (attempt_no) where lp.channel = 'coin' and r.status = 'REFUND_SUCCESS')::bigint as returned`);
  const c = coins as Record<string, bigint>;
  expect(c.held).toBe(c.issued! - c.spent! + c.returned!);
  // A credit account owes exactly what its bills still owe: line - available - frozen.
  const credit = await t.query(`select ua.account_no,
      (select coalesce(sum(b.balance_minor), 0) from ledger_balances b join ledger_accounts la using (account_id) where la.code = 'user:' || ua.user_id || ':credit:CNY:line')::bigint
      - (select coalesce(sum(b.balance_minor), 0) from ledger_balances b where b.account_id in (ua.available_account_id, ua.frozen_account_id))::bigint as used,
      (select coalesce(sum(amount_minor - repaid_minor - refunded_minor), 0) from credit_bills cb where cb.account_no = ua.account_no)::bigint as owed
    from user_accounts ua where ua.type = 'CREDIT'`);
  for (const row of credit) expect(row.used, row.account_no as string).toBe(row.owed);
  // Each order was charged at most once.
  const [doubled] = await t.query("select count(*)::int as n from (select trade_no from local_payments group by trade_no having count(*) > 1) d");
  expect(doubled).toEqual({ n: 0 });
  const clearing = await t.query("select a.code, sum(b.balance_minor)::bigint as total from ledger_accounts a join ledger_balances b using (account_id) where a.code ~ '^channel:(balance|coin|credit):' group by a.code");
  for (const row of clearing) expect(row.total, row.code as string).toBe(0n);
  expect((await checkLedger(t.instance.context.pool)).ok).toBe(true);
}, 180_000);
