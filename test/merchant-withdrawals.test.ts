import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { accountsClient } from './helpers/accounts.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/preauth.js';

let t: TestInstance;
let merchantId: string;
const a = accountsClient(() => t);
const card = '6222020202020202';

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5', TONGBAO_MERCHANT_WITHDRAW_DAILY_LIMIT: '200.00' });
  merchantId = (await t.query('select merchant_id from apps where app_id = $1', [t.demo.app_id]))[0]!.merchant_id as string;
  // The merchant's settlement account fills with its paid trades: 300.00 in all.
  for (const outTradeNo of ['shop-1', 'shop-2', 'shop-3']) {
    expect(await a.call('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: '100.00', subject: 'tea', channel: 'sandbox' })).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' });
  }
});
afterAll(async () => {
  await t?.stop();
});

const withdraw = (outBizNo: string, amount: string, extra: Record<string, unknown> = {}) =>
  a.call('tongbao.fund.merchant.withdraw', { out_biz_no: outBizNo, amount, payee_type: 'BANK_CARD', payee_identity: card, payee_name: '通宝商行', ...extra });

/** The merchant's settlement account as the gateway shows it. */
async function balance(): Promise<{ availableAmount: string; frozenAmount: string }> {
  return (await a.call('tongbao.account.balance.query', { currency: 'CNY' })).accounts[0];
}

const refused = (subCode: string, call: () => Promise<Record<string, any>>) => a.refused(subCode, call);

describe('merchant withdrawal', () => {
  it('needs the merchant\'s verified real name', async () => {
    await refused('ACCOUNT.REAL_NAME_REQUIRED', () => withdraw('mw-0', '10.00'));
    expect((await t.admin('PUT', `/merchants/${merchantId}/real-name`, { real_name: '通宝商行', id_type: 'BUSINESS_LICENSE', id_number: '91110000MA01ABCD2X', reason: 'kyb' })).status).toBe(200);
    await refused('ACCOUNT.REAL_NAME_REQUIRED', () => withdraw('mw-0', '10.00'));
    expect((await t.admin('POST', `/merchants/${merchantId}/real-name/verify`, { reason: 'licence checked' })).status).toBe(200);
  });

  it('holds, pays out to the merchant\'s card, and tells the app', async () => {
    const answer = await withdraw('mw-1', '10.00', { notify_url: 'http://127.0.0.1:9/notify' });
    expect(answer).toMatchObject({ code: '10000', merchantId, withdrawStatus: 'SUCCESS', amount: '10.00', payeeIdentity: '************0202' });
    expect(answer.withdrawNo).toMatch(/^MW/);
    expect(await balance()).toEqual({ currency: 'CNY', availableAmount: '290.00', frozenAmount: '0.00' });
    expect(await a.call('tongbao.fund.merchant.withdraw.query', { out_biz_no: 'mw-1' })).toMatchObject({ withdrawNo: answer.withdrawNo, withdrawStatus: 'SUCCESS' });
    // The same request again is the same withdrawal: no second payout.
    expect(await withdraw('mw-1', '10.00')).toMatchObject({ code: '10000', withdrawNo: answer.withdrawNo });
    expect(await balance()).toMatchObject({ availableAmount: '290.00' });
    expect(await t.query("select params->>'withdraw_status' as status, params->>'merchant_id' as merchant from notifications where notify_type = 'merchant_withdraw_status_sync'"))
      .toEqual([{ status: 'SUCCESS', merchant: merchantId }]);
    // Users' withdrawals are another table: this one is not there.
    expect(await t.query('select count(*)::int as n from withdrawals')).toEqual([{ n: 0 }]);
    expect(JSON.stringify(await t.query('select w::text as row from merchant_withdrawals w'))).not.toContain(card);
  });

  it('releases the hold when the channel declines', async () => {
    expect(await withdraw('mw-2', '40.04')).toMatchObject({ code: '10000', withdrawStatus: 'FAILED', failureCode: 'PAYEE_ACCOUNT_INVALID' });
    expect(await balance()).toMatchObject({ availableAmount: '290.00', frozenAmount: '0.00' });
    expect(await t.query("select kind from journal_transactions where reference = (select withdraw_no from merchant_withdrawals where out_biz_no = 'mw-2') order by kind"))
      .toEqual([{ kind: 'MERCHANT_WITHDRAW_HOLD' }, { kind: 'MERCHANT_WITHDRAW_RELEASE' }]);
  });

  it('keeps the hold while the channel hangs and settles it by compensation query', async () => {
    expect(await withdraw('mw-3', '50.05')).toMatchObject({ code: '10000', withdrawStatus: 'PROCESSING' });
    expect(await balance()).toMatchObject({ availableAmount: '239.95', frozenAmount: '50.05' });
    await until(() => a.call('tongbao.fund.merchant.withdraw.query', { out_biz_no: 'mw-3' }), (answer) => answer.withdrawStatus === 'SUCCESS');
    expect(await balance()).toMatchObject({ availableAmount: '239.95', frozenAmount: '0.00' });
    const [row] = await t.query("select withdraw_no from merchant_withdrawals where out_biz_no = 'mw-3'");
    expect((await t.admin('GET', `/merchant-withdrawals/${row!.withdraw_no}`)).body).toMatchObject({ withdraw_status: 'SUCCESS', merchant_id: merchantId, payee_name: '通宝商行' });
    // A hang the channel later reports as failed gives the hold back.
    expect(await withdraw('mw-5', '50.04')).toMatchObject({ code: '10000', withdrawStatus: 'PROCESSING' });
    expect(await balance()).toMatchObject({ availableAmount: '189.91', frozenAmount: '50.04' });
    await until(() => a.call('tongbao.fund.merchant.withdraw.query', { out_biz_no: 'mw-5' }), (answer) => answer.withdrawStatus === 'FAILED');
    expect(await balance()).toMatchObject({ availableAmount: '239.95', frozenAmount: '0.00' });
  });

  it('parallel duplicates hold and pay out once', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => withdraw('mw-dup', '5.00')));
    expect(answers.every((answer) => answer.code === '10000')).toBe(true);
    expect(new Set(answers.map((answer) => answer.withdrawNo)).size).toBe(1);
    expect(await t.query("select count(*)::int as n from merchant_withdrawals where out_biz_no = 'mw-dup'")).toEqual([{ n: 1 }]);
    expect(await t.query('select count(*)::int as n from journal_transactions where reference = $1', [answers[0]!.withdrawNo])).toEqual([{ n: 2 }]);
    expect(await balance()).toMatchObject({ availableAmount: '234.95', frozenAmount: '0.00' });
  });

  it('refuses more than available, over the daily limit, a reused number, and a frozen merchant, changing nothing', async () => {
    await refused('ACCOUNT.BALANCE_NOT_ENOUGH', () => withdraw('mw-4', '234.96'));
    // 10.00 + 50.05 + 5.00 withdrawn today (the failed 40.04 and 50.04 do not count) of the 200.00 limit.
    await refused('ACCOUNT.DAILY_LIMIT_EXCEEDED', () => withdraw('mw-4', '134.96'));
    await refused('ACCOUNT.ORDER_CONFLICT', () => withdraw('mw-1', '11.00'));
    await refused('isv.invalid-amount', () => withdraw('mw-4', '1.001'));
    await refused('isv.invalid-amount', () => withdraw('mw-4', '-1.00'));
    await refused('ACCOUNT.ORDER_NOT_EXIST', () => a.call('tongbao.fund.merchant.withdraw.query', { out_biz_no: 'mw-none' }));
    expect((await t.admin('POST', `/merchants/${merchantId}/freeze`)).body).toMatchObject({ status: 'FROZEN' });
    await refused('isv.merchant-frozen', () => withdraw('mw-4', '1.00'));
    expect((await t.admin('POST', `/merchants/${merchantId}/unfreeze`)).body).toMatchObject({ status: 'NORMAL' });
    expect(await withdraw('mw-4', '134.95')).toMatchObject({ code: '10000', withdrawStatus: 'SUCCESS' });
    expect(await balance()).toMatchObject({ availableAmount: '100.00', frozenAmount: '0.00' });
  });

  it('operators list merchant withdrawals with filters', async () => {
    const all = (await t.admin('GET', `/merchant-withdrawals?merchant_id=${merchantId}`)).body.withdrawals;
    expect(all.map((row: { out_biz_no: string }) => row.out_biz_no)).toEqual(['mw-4', 'mw-dup', 'mw-5', 'mw-3', 'mw-2', 'mw-1']);
    expect((await t.admin('GET', '/merchant-withdrawals?status=FAILED')).body.withdrawals).toMatchObject([{ out_biz_no: 'mw-5', withdraw_status: 'FAILED' }, { out_biz_no: 'mw-2', failure_code: 'PAYEE_ACCOUNT_INVALID', amount: '40.04' }]);
    expect((await t.admin('GET', '/merchant-withdrawals?limit=2&offset=1')).body.withdrawals.map((row: { out_biz_no: string }) => row.out_biz_no)).toEqual(['mw-dup', 'mw-5']);
    expect((await t.admin('GET', '/merchant-withdrawals?merchant_id=nobody')).body.withdrawals).toEqual([]);
    expect((await t.admin('GET', '/merchant-withdrawals?from=2099-01-01T00:00:00Z')).body.withdrawals).toEqual([]);
    expect((await t.admin('GET', '/merchant-withdrawals/MW-none')).status).toBe(404);
    expect((await t.admin('GET', '/merchant-withdrawals?status=LOST')).status).toBe(400);
  });

  it('the books balance', async () => {
    expect((await checkLedger(t.instance.context.pool)).ok).toBe(true);
  });
});
