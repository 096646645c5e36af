import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { accountsClient } from './helpers/accounts.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/preauth.js';

let t: TestInstance;
const a = accountsClient(() => t);

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5', TONGBAO_WITHDRAW_DAILY_LIMIT: '100.00' });
});
afterAll(async () => {
  await t?.stop();
});

const refused = (subCode: string, call: () => Promise<Record<string, any>>) => a.refused(subCode, call);

async function verifiedUser(outUserId: string) {
  const userId = await a.userId(outUserId);
  expect((await t.admin('PUT', `/users/${userId}/real-name`, { real_name: '张三', id_type: 'ID_CARD', id_number: '11010519491231002X', reason: 'kyc' })).status).toBe(200);
  expect((await t.admin('POST', `/users/${userId}/real-name/verify`, { reason: 'documents checked' })).body).toMatchObject({ real_name: '*三', id_number: '110***********002X' });
}

describe('recharge', () => {
  it('credits a wallet once the channel confirms, and tells the app', async () => {
    expect(await a.call('tongbao.user.create', { out_user_id: 'alice' })).toMatchObject({ code: '10000', outUserId: 'alice', userStatus: 'NORMAL', realNameVerified: 'N' });
    const answer = await a.recharge('rc-alice-1', 'alice', '100.00', { notify_url: 'http://127.0.0.1:9/notify' });
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', purpose: 'RECHARGE', accountType: 'WALLET', rechargeAmount: '100.00' });
    expect(await a.balances('alice')).toEqual({ available: 10000n, frozen: 0n });
    // The same call again is the same recharge: no second credit.
    expect(await a.recharge('rc-alice-1', 'alice', '100.00', { notify_url: 'http://127.0.0.1:9/notify' })).toMatchObject({ code: '10000', tradeNo: answer.tradeNo });
    expect(await a.balances('alice')).toEqual({ available: 10000n, frozen: 0n });
    expect(await t.query("select notify_type from notifications where trade_no = $1", [answer.tradeNo])).toEqual([{ notify_type: 'recharge_status_sync' }]);
  });

  it('credits nothing when the channel declines, and only on the callback when it is late', async () => {
    await refused('ACQ.PAYMENT_FAIL', () => a.recharge('rc-bob-declined', 'bob', '40.04')).catch(() => undefined);
    expect(await a.balances('bob')).toEqual({ available: 0n, frozen: 0n });
    const pending = await a.recharge('rc-bob-late', 'bob', '60.01');
    expect(pending).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY' });
    expect(await a.balances('bob')).toEqual({ available: 0n, frozen: 0n });
    await until(() => a.balances('bob'), (balance) => balance.available === 6001n);
  });

  it('issues coins by the unit rule; a recharge buying part of a coin is refused', async () => {
    expect((await t.admin('PUT', `/apps/${t.demo.app_id}/coin-units/GOLD`, { name: 'Gold', currency: 'CNY', coins_per_unit: 10 })).status).toBe(200);
    expect(await a.recharge('rc-coin-1', 'carol', '1.50', { account_type: 'COIN', coin_unit: 'GOLD' })).toMatchObject({ code: '10000', rechargeAmount: '15', coinUnit: 'GOLD' });
    expect(await a.balances('carol', 'COIN', 'GOLD')).toEqual({ available: 15n, frozen: 0n });
    await refused('isv.invalid-amount', () => a.recharge('rc-coin-2', 'carol', '0.05', { account_type: 'COIN', coin_unit: 'GOLD' }));
    await refused('ACCOUNT.COIN_UNIT_NOT_EXIST', () => a.recharge('rc-coin-3', 'carol', '1.00', { account_type: 'COIN', coin_unit: 'SILVER' }));
  });

  it('a recharge cannot be refunded, and its order number is not a trade of another kind', async () => {
    await refused('ACQ.TRADE_NOT_ALLOW_REFUND', () => a.call('tongbao.trade.refund', { out_trade_no: 'rc-alice-1', refund_amount: '1.00', out_request_no: 'r1' }));
    await refused('ACQ.CONTEXT_INCONSISTENT', () => a.recharge('rc-alice-1', 'bob', '100.00'));
  });
});

describe('transfer and payout', () => {
  it('moves money between users atomically and idempotently', async () => {
    expect(await a.transfer('tr-1', 'alice', 'dave', '30.00')).toMatchObject({ code: '10000', amount: '30.00', status: 'SUCCESS' });
    expect(await a.transfer('tr-1', 'alice', 'dave', '30.00')).toMatchObject({ code: '10000' });
    expect(await a.balances('alice')).toMatchObject({ available: 7000n });
    expect(await a.balances('dave')).toMatchObject({ available: 3000n });
    await refused('ACCOUNT.ORDER_CONFLICT', () => a.transfer('tr-1', 'alice', 'dave', '31.00'));
  });

  it('refuses bad transfers precisely and changes nothing', async () => {
    await refused('ACCOUNT.TRANSFER_TO_SELF', () => a.transfer('tr-bad-1', 'alice', 'alice', '1.00'));
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => a.transfer('tr-bad-2', 'alice', 'dave', '70.01'));
    await refused('ACCOUNT.CURRENCY_MISMATCH', () => a.transfer('tr-bad-3', 'alice', 'dave', '1.00', { currency: 'USD' }));
    await refused('ACCOUNT.USER_NOT_EXIST', () => a.transfer('tr-bad-4', 'nobody', 'dave', '1.00'));
    await refused('isv.invalid-amount', () => a.transfer('tr-bad-5', 'alice', 'dave', '-1.00'));
    await refused('isv.invalid-amount', () => a.transfer('tr-bad-6', 'alice', 'dave', '1.001'));
    await refused('isv.invalid-amount', () => a.transfer('tr-bad-7', 'alice', 'dave', '99999999999999999'));
    await refused('isv.invalid-amount', () => a.transfer('tr-bad-8', 'alice', 'dave', 'ten'));
    await refused('isv.unknown-parameter', () => a.transfer('tr-bad-9', 'alice', 'dave', '1.00', { fee: '1' }));
  });

  it('parallel duplicates move money once', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => a.transfer('tr-dup', 'alice', 'erin', '5.00')));
    expect(new Set(answers.map((answer) => answer.transferNo)).size).toBe(1);
    expect(await a.balances('erin')).toMatchObject({ available: 500n });
    expect(await t.query("select count(*)::int as n from fund_transfers where out_biz_no = 'tr-dup'")).toEqual([{ n: 1 }]);
  });

  it('the merchant pays a user out of its settlement account, never beyond it', async () => {
    expect(await a.call('tongbao.trade.pay', { out_trade_no: 'shop-1', total_amount: '50.00', subject: 'tea', channel: 'sandbox' })).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' });
    const before = await a.call('tongbao.account.balance.query', {});
    expect(before.accounts).toEqual([{ currency: 'CNY', availableAmount: '50.00', frozenAmount: '0.00' }]);
    expect(await a.call('tongbao.fund.payout', { out_biz_no: 'po-1', payee_out_user_id: 'frank', amount: '12.00' })).toMatchObject({ code: '10000', payerType: 'MERCHANT' });
    expect(await a.balances('frank')).toMatchObject({ available: 1200n });
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => a.call('tongbao.fund.payout', { out_biz_no: 'po-2', payee_out_user_id: 'frank', amount: '38.01' }));
    expect((await a.call('tongbao.account.balance.query', { currency: 'CNY' })).accounts[0]).toMatchObject({ availableAmount: '38.00' });
  });
});

describe('withdrawal', () => {
  beforeAll(async () => {
    expect(await a.recharge('rc-alice-2', 'alice', '100.00')).toMatchObject({ code: '10000' });
  });

  it('needs a verified real name', async () => {
    await refused('ACCOUNT.REAL_NAME_REQUIRED', () => a.withdraw('wd-0', 'dave', '1.00'));
  });

  it('holds, pays out, and releases the hold when the channel declines', async () => {
    await verifiedUser('dave');
    expect(await a.withdraw('wd-1', 'dave', '10.00', { notify_url: 'http://127.0.0.1:9/notify' })).toMatchObject({ code: '10000', withdrawStatus: 'SUCCESS', payeeIdentity: '************0202' });
    expect(await a.balances('dave')).toEqual({ available: 2000n, frozen: 0n });
    expect(await a.withdraw('wd-2', 'dave', '40.04')).toMatchObject({ subCode: 'ACCOUNT.BALANCE_NOT_ENOUGH' });
    await a.transfer('tr-dave-topup', 'alice', 'dave', '30.00');
    expect(await a.withdraw('wd-3', 'dave', '40.04', { notify_url: 'http://127.0.0.1:9/notify' })).toMatchObject({ code: '10000', withdrawStatus: 'FAILED', failureCode: 'PAYEE_ACCOUNT_INVALID' });
    expect(await a.balances('dave')).toEqual({ available: 5000n, frozen: 0n });
    expect(await t.query("select params->>'withdraw_status' as status, params->>'payee_identity' as card from notifications where notify_type = 'withdraw_status_sync' order by created_at"))
      .toEqual([{ status: 'SUCCESS', card: '************0202' }, { status: 'FAILED', card: '************0202' }]);
    expect(JSON.stringify(await t.query('select w::text as row from withdrawals w'))).not.toContain('6222020202020202');
  });

  it('keeps the hold while the channel hangs and settles it by query', async () => {
    await a.transfer('tr-dave-topup-2', 'alice', 'dave', '10.00');
    expect(await a.withdraw('wd-4', 'dave', '50.05')).toMatchObject({ code: '10000', withdrawStatus: 'PROCESSING' });
    expect(await a.balances('dave')).toEqual({ available: 995n, frozen: 5005n });
    await until(() => a.call('tongbao.fund.withdraw.query', { out_biz_no: 'wd-4' }), (answer) => answer.withdrawStatus === 'SUCCESS');
    expect(await a.balances('dave')).toEqual({ available: 995n, frozen: 0n });
  });

  it('refuses over the daily limit, over the balance, and from a frozen or blacklisted account', async () => {
    await a.transfer('tr-dave-2', 'alice', 'dave', '40.00');
    await refused('ACCOUNT.DAILY_LIMIT_EXCEEDED', () => a.withdraw('wd-5', 'dave', '40.00'));
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => a.withdraw('wd-5', 'dave', '49.96'));
    const accountNo = await a.accountNo('dave');
    expect((await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'FROZEN', reason: 'dispute' })).body).toMatchObject({ status: 'FROZEN' });
    await refused('ACCOUNT.FROZEN', () => a.withdraw('wd-6', 'dave', '1.00'));
    await refused('ACCOUNT.FROZEN', () => a.transfer('tr-frozen', 'dave', 'alice', '1.00'));
    expect(await a.transfer('tr-into-frozen', 'alice', 'dave', '1.00')).toMatchObject({ code: '10000' });
    await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'BLACKLISTED', reason: 'fraud' });
    await refused('ACCOUNT.BLACKLISTED', () => a.transfer('tr-into-black', 'alice', 'dave', '1.00'));
    await t.admin('PUT', `/accounts/${accountNo}/status`, { status: 'NORMAL', reason: 'cleared' });
    expect((await t.admin('GET', `/accounts/${accountNo}/audit`)).body.audit.map((row: { action: string }) => row.action)).toEqual(['STATUS_FROZEN', 'STATUS_BLACKLISTED', 'STATUS_NORMAL']);
  });
});

describe('operators', () => {
  it('freeze a disputed sum and release it, with statements of both', async () => {
    const accountNo = await a.accountNo('alice');
    expect((await t.admin('POST', `/accounts/${accountNo}/freeze`, { amount: '5.00', reason: 'chargeback dispute' })).body).toMatchObject({ available: '79.00', frozen: '5.00' });
    expect((await t.admin('POST', `/accounts/${accountNo}/freeze`, { amount: '79.01', reason: 'more' })).body).toMatchObject({ code: 'ACCOUNT.BALANCE_NOT_ENOUGH' });
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => a.transfer('tr-frozen-part', 'alice', 'dave', '79.01'));
    expect((await t.admin('POST', `/accounts/${accountNo}/unfreeze`, { amount: '5.00', reason: 'resolved' })).body).toMatchObject({ available: '84.00', frozen: '0.00' });
    const statement = (await t.admin('GET', `/accounts/${accountNo}/statement?direction=OUT&limit=3`)).body;
    expect(statement.lines.map((line: { kind: string }) => line.kind)).toEqual(['ACCOUNT_FREEZE', 'TRANSFER', 'TRANSFER']);
    const frozenPart = (await t.admin('GET', `/accounts/${accountNo}/statement?part=FROZEN`)).body;
    expect(frozenPart.lines.map((line: { kind: string; amount: string }) => `${line.kind} ${line.amount}`)).toEqual(['ACCOUNT_UNFREEZE 5.00', 'ACCOUNT_FREEZE 5.00']);
  });

  it('credit limits: the available part is what remains of the limit', async () => {
    const userId = await a.userId('alice');
    const context = t.instance.context;
    const { withTransaction } = await import('../src/db/pool.js');
    const { findOrCreateUser, userAccount } = await import('../src/account/index.js');
    const account = await withTransaction(context.pool, async (client) => userAccount(context, client, (await findOrCreateUser(client, t.demo.app_id, 'alice')), 'CREDIT', 'CNY', { create: true }));
    expect(account!.userId).toBe(userId);
    expect((await t.admin('PUT', `/accounts/${account!.accountNo}/credit-limit`, { credit_limit: '500.00', reason: 'approved' })).body).toMatchObject({ credit_limit: '500.00', available: '500.00' });
    expect((await a.call('tongbao.user.account.query', { out_user_id: 'alice' })).accounts).toContainEqual(expect.objectContaining({ accountType: 'CREDIT', creditLimit: '500.00', availableAmount: '500.00' }));
    expect((await t.admin('PUT', `/accounts/${account!.accountNo}/credit-limit`, { credit_limit: '100.00', reason: 'lowered' })).body).toMatchObject({ available: '100.00' });
  });

  it('the books balance', async () => {
    expect((await checkLedger(t.instance.context.pool)).ok).toBe(true);
  });
});
