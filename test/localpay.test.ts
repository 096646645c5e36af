import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { accountsClient } from './helpers/accounts.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/preauth.js';

let t: TestInstance;
const a = accountsClient(() => t);
let orderSeq = 0;

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_TEST_CLOCK: 'on', TONGBAO_CREDIT_DUE_DAYS: '30' });
});
afterAll(async () => {
  await t?.stop();
});

/** Everything a refused payment must leave as it was (the accounts helper's snapshot, plus local tables). */
async function snapshot() {
  const [local] = await t.query(`select (select count(*) from pay_attempts) as attempts, (select count(*) from refunds) as refunds,
    (select count(*) from local_payments) as local_payments, (select count(*) from credit_bills) as bills,
    (select string_agg(bill_no || ':' || repaid_minor || ':' || refunded_minor || ':' || status, ',' order by bill_no) from credit_bills) as bill_state,
    (select count(*) from credit_repayments) as repayments, (select coalesce(sum(used_minor), 0) from nopassword_usage) as nopassword_used`);
  return { ...(await a.snapshot()), ...local };
}

async function refused(subCode: string, call: () => Promise<Record<string, any>>) {
  const before = await snapshot();
  const answer = await call();
  expect(answer).toMatchObject({ subCode });
  expect(await snapshot()).toEqual(before);
  return answer;
}

function pay(outUserId: string, amount: string, channel: string, extra: Record<string, unknown> = {}) {
  return a.call('tongbao.trade.pay', { out_trade_no: `lp-${++orderSeq}`, total_amount: amount, subject: 'local', channel, out_user_id: outUserId, ...extra });
}

async function setPassword(outUserId: string, password: string, old?: string) {
  return a.call('tongbao.user.paypassword.set', { out_user_id: outUserId, pay_password: password, ...(old ? { old_pay_password: old } : {}) });
}

describe('pay password', () => {
  it('is set through the gateway, refused when trivial, and changed only with the old one', async () => {
    await a.recharge('lp-rc-alice', 'alice', '100.00');
    expect(await setPassword('alice', '123456')).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_INVALID' });
    expect(await setPassword('alice', '111111')).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_INVALID' });
    expect(await setPassword('alice', '12345a')).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_INVALID' });
    expect(await setPassword('alice', '135790')).toMatchObject({ code: '10000', payPasswordSet: 'Y' });
    expect(await setPassword('alice', '246802')).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_REQUIRED' });
    expect(await setPassword('alice', '246802', '000123')).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_ERROR' });
    expect(await setPassword('alice', '246802', '135790')).toMatchObject({ code: '10000' });
    // Only a salted slow hash is stored; the digits appear nowhere.
    const [stored] = await t.query("select p.* from pay_passwords p join users u using (user_id) where u.out_user_id = 'alice'");
    expect(stored).toMatchObject({ failed_count: 0, params: { algorithm: 'scrypt', N: 16384, r: 8, p: 1, keylen: 32 } });
    expect(JSON.stringify(stored)).not.toMatch(/246802|135790/);
  });

  it('locks after five wrong tries, says until when, and an operator reset clears it', async () => {
    await a.recharge('lp-rc-bob', 'bob', '50.00');
    await setPassword('bob', '975310');
    for (let attempt = 1; attempt <= 4; attempt++) {
      const answer = await refused('ACCOUNT.PAY_PASSWORD_ERROR', () => pay('bob', '1.00', 'balance', { pay_password: '000000' }));
      expect(answer.subMsg).toContain(`${5 - attempt} tries left`);
    }
    const locked = await refused('ACCOUNT.PAY_PASSWORD_LOCKED', () => pay('bob', '1.00', 'balance', { pay_password: '000000' }));
    expect(locked.subMsg).toMatch(/locked until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    // Locked: even the right password is refused, and no money moves.
    await refused('ACCOUNT.PAY_PASSWORD_LOCKED', () => pay('bob', '1.00', 'balance', { pay_password: '975310' }));
    const userId = await a.userId('bob');
    expect((await t.admin('GET', `/users/${userId}/pay-password`)).body).toMatchObject({ set: true, failed_count: 5 });
    expect((await t.admin('POST', `/users/${userId}/pay-password/reset`, { pay_password: '864200', reason: 'identity checked at the counter' })).status).toBe(200);
    expect(await pay('bob', '1.00', 'balance', { pay_password: '864200' })).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect((await t.query("select action from account_audit where subject_id = $1", [userId]))).toEqual([{ action: 'PAY_PASSWORD_RESET' }]);
  });

  it('gives parallel wrong guesses no extra tries', async () => {
    await a.recharge('lp-rc-carol', 'carol', '50.00');
    await setPassword('carol', '192837');
    const answers = await Promise.all(Array.from({ length: 12 }, () => pay('carol', '1.00', 'balance', { pay_password: '555000' })));
    const codes = answers.map((answer) => answer.subCode).sort();
    expect(codes.filter((code) => code === 'ACCOUNT.PAY_PASSWORD_ERROR')).toHaveLength(4);
    expect(codes.filter((code) => code === 'ACCOUNT.PAY_PASSWORD_LOCKED')).toHaveLength(8);
    const [row] = await t.query("select failed_count from pay_passwords p join users u using (user_id) where u.out_user_id = 'carol'");
    expect(row).toEqual({ failed_count: 5 });
    expect(await a.balances('carol')).toEqual({ available: 5000n, frozen: 0n });
  });
});

describe('balance payments', () => {
  it('pays from the wallet in the transaction of the trade, once, and tells the app as any payment', async () => {
    const answer = await pay('alice', '30.00', 'balance', { pay_password: '246802', notify_url: 'http://127.0.0.1:9/notify' });
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'balance', totalAmount: '30.00' });
    expect(await a.balances('alice')).toEqual({ available: 7000n, frozen: 0n });
    // The same call again answers the paid trade and charges nothing.
    expect(await a.call('tongbao.trade.pay', { out_trade_no: `lp-${orderSeq}`, total_amount: '30.00', subject: 'local', channel: 'balance', out_user_id: 'alice', pay_password: '246802', notify_url: 'http://127.0.0.1:9/notify' }))
      .toMatchObject({ code: '10000', tradeNo: answer.tradeNo });
    expect(await a.balances('alice')).toEqual({ available: 7000n, frozen: 0n });
    expect(await a.call('tongbao.trade.query', { trade_no: answer.tradeNo })).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', channel: 'balance' });
    expect(await t.query('select notify_type from notifications where trade_no = $1', [answer.tradeNo])).toEqual([{ notify_type: 'trade_status_sync' }]);
    expect(await t.query("select status from pay_attempts where trade_no = $1", [answer.tradeNo])).toEqual([{ status: 'SUCCEEDED' }]);
  });

  it('refuses bad payments precisely and changes nothing', async () => {
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => pay('alice', '70.01', 'balance', { pay_password: '246802' }));
    await refused('ACCOUNT.USER_NOT_EXIST', () => pay('nobody', '1.00', 'balance', { pay_password: '246802' }));
    await refused('ACCOUNT.CURRENCY_MISMATCH', () => pay('alice', '1.00', 'balance', { pay_password: '246802', currency: 'USD' }));
    await refused('ACCOUNT.PAY_PASSWORD_REQUIRED', () => pay('alice', '1.00', 'balance'));
    await a.recharge('lp-rc-dave', 'dave', '10.00');
    await refused('ACCOUNT.PAY_PASSWORD_NOT_SET', () => pay('dave', '1.00', 'balance', { pay_password: '246802' }));
    await refused('isv.missing-parameter', () => a.call('tongbao.trade.pay', { out_trade_no: 'lp-no-user', total_amount: '1.00', subject: 'x', channel: 'balance', pay_password: '246802' }));
    const accountNo = await a.accountNo('alice');
    expect((await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'FROZEN', reason: 'dispute' })).status).toBe(200);
    await refused('ACCOUNT.FROZEN', () => pay('alice', '1.00', 'balance', { pay_password: '246802' }));
    expect((await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'BLACKLISTED', reason: 'fraud' })).status).toBe(200);
    await refused('ACCOUNT.BLACKLISTED', () => pay('alice', '1.00', 'balance', { pay_password: '246802' }));
    expect((await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'NORMAL', reason: 'cleared' })).status).toBe(200);
  });

  it('charges once when the same order is paid many times at once', async () => {
    const created = await a.call('tongbao.trade.create', { out_trade_no: 'lp-dup', total_amount: '5.00', subject: 'dup', notify_url: 'http://127.0.0.1:9/notify' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => a.call('tongbao.trade.pay', { trade_no: created.tradeNo, channel: 'balance', out_user_id: 'alice', pay_password: '246802' })));
    for (const answer of answers) expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await a.balances('alice')).toEqual({ available: 6500n, frozen: 0n });
    expect(await t.query("select count(*)::int as n from pay_attempts where trade_no = $1", [created.tradeNo])).toEqual([{ n: 1 }]);
  });

  it('refunds back to the wallet in the same transaction', async () => {
    const refund = await a.call('tongbao.trade.refund', { out_trade_no: 'lp-dup', refund_amount: '2.00', out_request_no: 'r1' });
    expect(refund).toMatchObject({ code: '10000', fundChange: 'Y', refundStatus: 'REFUND_SUCCESS' });
    expect(await a.balances('alice')).toEqual({ available: 6700n, frozen: 0n });
    expect(await a.call('tongbao.trade.refund', { out_trade_no: 'lp-dup', refund_amount: '2.00', out_request_no: 'r1' })).toMatchObject({ code: '10000' });
    expect(await a.balances('alice')).toEqual({ available: 6700n, frozen: 0n });
    await a.call('tongbao.trade.refund', { out_trade_no: 'lp-dup', refund_amount: '3.00', out_request_no: 'r2' });
    expect(await a.call('tongbao.trade.query', { out_trade_no: 'lp-dup' })).toMatchObject({ tradeStatus: 'TRADE_CLOSED' });
    expect(await a.balances('alice')).toEqual({ available: 7000n, frozen: 0n });
    const notes = await t.query("select notify_type from notifications n join trades t using (trade_no) where t.out_trade_no = 'lp-dup'");
    expect(notes.map((row) => row.notify_type).sort()).toEqual(['refund_status_sync', 'refund_status_sync', 'trade_status_sync']);
  });
});

describe('password-free payments', () => {
  it('skip the password under the user\'s limit, the app\'s maximum and the daily cap', async () => {
    await refused('ACCOUNT.NOPASSWORD_LIMIT_EXCEEDED', () => a.call('tongbao.user.nopassword.set', { out_user_id: 'alice', enabled: true, single_limit: '10.00', pay_password: '246802' }));
    expect((await t.admin('PUT', `/apps/${t.demo.app_id}/nopassword-limits/CNY`, { max_single: '50.00', max_daily: '60.00' })).body).toMatchObject({ max_single: '50.00', max_daily: '60.00' });
    expect(await a.call('tongbao.user.nopassword.set', { out_user_id: 'alice', enabled: true, single_limit: '50.01', pay_password: '246802' })).toMatchObject({ subCode: 'ACCOUNT.NOPASSWORD_LIMIT_EXCEEDED' });
    expect(await a.call('tongbao.user.nopassword.set', { out_user_id: 'alice', enabled: true, single_limit: '20.00' })).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_REQUIRED' });
    expect(await a.call('tongbao.user.nopassword.set', { out_user_id: 'alice', enabled: true, single_limit: '20.00', pay_password: '246802' }))
      .toMatchObject({ code: '10000', enabled: 'Y', singleLimit: '20.00', appMaxDaily: '60.00' });
    expect(await pay('alice', '15.00', 'balance')).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    await refused('ACCOUNT.PAY_PASSWORD_REQUIRED', () => pay('alice', '20.01', 'balance'));
    expect(await pay('alice', '20.00', 'balance')).toMatchObject({ code: '10000' });
    expect(await pay('alice', '20.00', 'balance')).toMatchObject({ code: '10000' });
    // 55.00 used today: 5.01 more would pass the daily cap of 60.00; with the password it is fine.
    const capped = await refused('ACCOUNT.PAY_PASSWORD_REQUIRED', () => pay('alice', '5.01', 'balance'));
    expect(capped.subMsg).toContain("today's password-free total");
    expect(await pay('alice', '5.01', 'balance', { pay_password: '246802' })).toMatchObject({ code: '10000' });
    expect(await a.balances('alice')).toEqual({ available: 7000n - 1500n - 4000n - 501n, frozen: 0n });
    expect(await t.query("select authorized_by, count(*)::int as n from local_payments join users using (user_id) where out_user_id = 'alice' group by 1 order by 1")).toEqual([
      { authorized_by: 'NO_PASSWORD', n: 3 }, { authorized_by: 'PASSWORD', n: 3 },
    ]);
  });
});

describe('coin payments', () => {
  it('pay by the unit rule, refuse part of a coin, and refund coins', async () => {
    expect((await t.admin('PUT', `/apps/${t.demo.app_id}/coin-units/GOLD`, { name: 'Gold', currency: 'CNY', coins_per_unit: 10 })).status).toBe(200);
    await a.recharge('lp-rc-coin', 'erin', '5.00', { account_type: 'COIN', coin_unit: 'GOLD' });
    await setPassword('erin', '802468');
    const answer = await pay('erin', '1.50', 'coin', { coin_unit: 'GOLD', pay_password: '802468' });
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'coin', totalAmount: '1.50' });
    expect(await a.balances('erin', 'COIN', 'GOLD')).toEqual({ available: 35n, frozen: 0n });
    await refused('ACCOUNT.COIN_FRACTION', () => pay('erin', '0.05', 'coin', { coin_unit: 'GOLD', pay_password: '802468' }));
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => pay('erin', '3.60', 'coin', { coin_unit: 'GOLD', pay_password: '802468' }));
    await refused('ACCOUNT.CURRENCY_MISMATCH', () => pay('erin', '1.00', 'coin', { coin_unit: 'GOLD', pay_password: '802468', currency: 'USD' }));
    await refused('ACCOUNT.COIN_UNIT_NOT_EXIST', () => pay('erin', '1.00', 'coin', { coin_unit: 'SILVER', pay_password: '802468' }));
    await refused('ACCOUNT.COIN_FRACTION', () => a.call('tongbao.trade.refund', { trade_no: answer.tradeNo, refund_amount: '0.05', out_request_no: 'c1' }));
    expect(await a.call('tongbao.trade.refund', { trade_no: answer.tradeNo, refund_amount: '0.50', out_request_no: 'c2' })).toMatchObject({ code: '10000', fundChange: 'Y' });
    expect(await a.balances('erin', 'COIN', 'GOLD')).toEqual({ available: 40n, frozen: 0n });
    // The merchant was paid in CNY from the coin reserve; the coin channel's clearing account nets to zero.
    const [reserve] = await t.query("select coalesce(sum(b.balance_minor), 0)::bigint as total from ledger_accounts a join ledger_balances b using (account_id) where a.code like 'app:%:coin-reserve:CNY'");
    expect(reserve).toEqual({ total: 400n });
    const [clearing] = await t.query("select coalesce(sum(b.balance_minor), 0)::bigint as total from ledger_accounts a join ledger_balances b using (account_id) where a.code like 'channel:coin:clearing:%'");
    expect(clearing).toEqual({ total: 0n });
  });
});

describe('credit payments and bills', () => {
  let userId: string;

  it('draw on the credit line, open a bill, and refuse over the limit', async () => {
    await a.recharge('lp-rc-frank', 'frank', '200.00');
    await setPassword('frank', '314159');
    userId = await a.userId('frank');
    expect((await t.admin('POST', `/users/${userId}/credit-account`, { currency: 'CNY', credit_limit: '100.00', reason: 'score 700' })).body).toMatchObject({ credit_limit: '100.00', available: '100.00' });
    const answer = await pay('frank', '60.00', 'credit', { pay_password: '314159' });
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'credit' });
    await refused('ACCOUNT.CREDIT_LIMIT_EXCEEDED', () => pay('frank', '40.01', 'credit', { pay_password: '314159' }));
    const bills = await a.call('tongbao.credit.bill.query', { out_user_id: 'frank' });
    expect(bills).toMatchObject({ code: '10000', creditLimit: '100.00', availableCredit: '40.00', owedAmount: '60.00' });
    expect(bills.bills).toHaveLength(1);
    expect(bills.bills[0]).toMatchObject({ tradeNo: answer.tradeNo, amount: '60.00', owedAmount: '60.00', status: 'OPEN' });
    const days = (Date.parse(bills.bills[0].dueDate) - Date.parse(bills.bills[0].statementDate)) / 86_400_000;
    expect(days).toBe(30);
  });

  it('are repaid from the wallet: partial, idempotent, never more than owed', async () => {
    const first = await a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-1', amount: '20.00' });
    expect(first).toMatchObject({ code: '10000', amount: '20.00', owedAmount: '40.00', status: 'SUCCESS' });
    expect(await a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-1', amount: '20.00' })).toMatchObject({ code: '10000', repayNo: first.repayNo });
    expect(await a.balances('frank')).toEqual({ available: 18000n, frozen: 0n });
    await refused('CREDIT.REPAY_REQUEST_CONFLICT', () => a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-1', amount: '21.00' }));
    await refused('CREDIT.REPAY_AMOUNT_EXCEEDED', () => a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-2', amount: '40.01' }));
    await refused('CREDIT.BILL_NOT_EXIST', () => a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-3', amount: '1.00', bill_no: 'nope' }));
    await refused('ACCOUNT.USER_NOT_EXIST', () => a.call('tongbao.credit.repay', { out_user_id: 'nobody', out_request_no: 'rp-4', amount: '1.00' }));
    expect(await a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-5', amount: '40.00' })).toMatchObject({ code: '10000', owedAmount: '0.00' });
    expect((await a.call('tongbao.credit.bill.query', { out_user_id: 'frank' })).bills[0]).toMatchObject({ status: 'PAID', repaidAmount: '60.00', owedAmount: '0.00' });
    expect(await a.balances('frank', 'CREDIT', 'CNY')).toEqual({ available: 10000n, frozen: 0n });
  });

  it('refunds pay the bill first and give back what was repaid to the wallet', async () => {
    const paidOff = (await a.call('tongbao.credit.bill.query', { out_user_id: 'frank' })).bills[0];
    expect(await a.call('tongbao.trade.refund', { trade_no: paidOff.tradeNo, refund_amount: '10.00', out_request_no: 'cr-1' })).toMatchObject({ code: '10000', fundChange: 'Y' });
    expect(await a.balances('frank')).toEqual({ available: 15000n, frozen: 0n });
    const second = await pay('frank', '30.00', 'credit', { pay_password: '314159' });
    await a.call('tongbao.trade.refund', { trade_no: second.tradeNo, refund_amount: '10.00', out_request_no: 'cr-2' });
    expect(await a.balances('frank', 'CREDIT', 'CNY')).toEqual({ available: 8000n, frozen: 0n });
    const bills = await a.call('tongbao.credit.bill.query', { out_user_id: 'frank', status: 'OPEN' });
    expect(bills.bills).toEqual([expect.objectContaining({ tradeNo: second.tradeNo, amount: '30.00', refundedAmount: '10.00', owedAmount: '20.00' })]);
    expect(bills.owedAmount).toBe('20.00');
  });

  it('become overdue after the due date on the test clock, visible to operators and the user', async () => {
    const before = await t.admin('GET', '/credit-bills?status=OVERDUE');
    expect(before.body.bills).toEqual([]);
    expect((await t.admin('POST', '/test-clock/advance', { seconds: 30 * 86400 })).status).toBe(200);
    expect((await t.admin('POST', '/credit-bills/overdue-sweep')).body).toMatchObject({ marked_overdue: 0 });
    expect((await t.admin('POST', '/test-clock/advance', { seconds: 86400 })).status).toBe(200);
    // The advance queues the sweep at once; it may run before this process applies the new offset, so the
    // operators' sweep is asked too (marking is idempotent).
    const overdue = await until(async () => {
      await t.admin('POST', '/credit-bills/overdue-sweep');
      return t.admin('GET', `/credit-bills?status=OVERDUE&user_id=${userId}`);
    }, (answer) => answer.body.bills.length === 1);
    expect(overdue.body.bills[0]).toMatchObject({ status: 'OVERDUE', owed_amount: '20.00' });
    expect((await a.call('tongbao.credit.bill.query', { out_user_id: 'frank', status: 'OVERDUE' })).bills).toHaveLength(1);
    expect(await a.call('tongbao.credit.repay', { out_user_id: 'frank', out_request_no: 'rp-late', amount: '20.00', bill_no: overdue.body.bills[0].bill_no })).toMatchObject({ code: '10000', owedAmount: '0.00' });
    expect((await t.admin('GET', `/credit-bills?user_id=${userId}&status=OVERDUE`)).body.bills).toEqual([]);
  });

  it('lets a pay-password lock run out after its period', async () => {
    // carol's password was locked at the start; the clock has moved a month since.
    expect(await pay('carol', '1.00', 'balance', { pay_password: '555000' })).toMatchObject({ subCode: 'ACCOUNT.PAY_PASSWORD_ERROR', subMsg: expect.stringContaining('4 tries left') });
    expect(await pay('carol', '1.00', 'balance', { pay_password: '192837' })).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
  });

  it('cancels a local payment back to the account at once', async () => {
    const paid = await pay('carol', '2.00', 'balance', { pay_password: '192837' });
    const before = await a.balances('carol');
    expect(await a.call('tongbao.trade.cancel', { trade_no: paid.tradeNo })).toMatchObject({ code: '10000', action: 'refund', retryFlag: 'N', refundStatus: 'REFUND_SUCCESS', tradeStatus: 'TRADE_CLOSED' });
    expect(await a.balances('carol')).toEqual({ available: before.available + 200n, frozen: 0n });
  });

  it('leaves the books balanced', async () => {
    const clearing = await t.query("select a.code, sum(b.balance_minor)::bigint as total from ledger_accounts a join ledger_balances b using (account_id) where a.code ~ '^channel:(balance|coin|credit):' group by a.code");
    for (const row of clearing) expect(row.total).toBe(0n);
    expect((await checkLedger(t.instance.context.pool)).ok).toBe(true);
  });
});
