import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeAdapter } from '../src/channels/stripe/index.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startStripeSimulator, type StripeSimulator } from './simulators/stripe/simulator.js';

let t: TestInstance;
let stripe: StripeSimulator;
beforeAll(async () => {
  t = await startTestInstance();
  stripe = await startStripeSimulator();
  // A second channel beside the sandbox, so an order can be continued through another channel.
  t.instance.context.channels.register(createStripeAdapter({ secretKey: stripe.secretKey, webhookSecret: 'whsec_continue_pay_test', apiBaseUrl: stripe.url, timeoutMs: 3000 }));
});
afterAll(async () => {
  await t?.stop();
  await stripe?.close();
});

const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });
const attemptsOf = (outTradeNo: string) => t.query('select a.* from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = $1 order by a.created_at, a.attempt_no', [outTradeNo]);

describe('continue-pay (tongbao.trade.page.pay)', () => {
  it('pays an order again after declined attempts, through another channel, keeping every attempt', async () => {
    await exec('tongbao.trade.create', { out_trade_no: 'continue-1', total_amount: '40.04', subject: 'continue', currency: 'USD' });
    expect(await exec('tongbao.trade.pay', { out_trade_no: 'continue-1', channel: 'sandbox' })).toMatchObject({ subCode: 'ACQ.PAYMENT_FAIL' });
    // Without a channel, page.pay continues through the channel of the last attempt.
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-1' })).toMatchObject({ subCode: 'ACQ.PAYMENT_FAIL' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-1', channel: 'stripe', payer_id: 'pm_card_chargeDeclined' })).toMatchObject({ subCode: 'ACQ.PAYMENT_FAIL' });
    const paid = await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-1', channel: 'stripe', product: 'STRIPE_CARD', payer_id: 'pm_card_visa' });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'stripe', receiptAmount: '40.04' });
    const attempts = await attemptsOf('continue-1');
    expect(attempts.map((attempt) => [attempt.channel, attempt.status])).toEqual([
      ['sandbox', 'FAILED'], ['sandbox', 'FAILED'], ['stripe', 'FAILED'], ['stripe', 'SUCCEEDED'],
    ]);
    expect(paid.attemptNo).toBe(attempts[3]!.attempt_no);
    // Paying a paid order again sends nothing and answers as before.
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-1', channel: 'sandbox' })).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'stripe' });
    expect(await attemptsOf('continue-1')).toHaveLength(4);
    const postings = await t.query("select kind, reference from journal_transactions where kind = 'PAYMENT' and reference = $1", [attempts[3]!.attempt_no]);
    expect(postings).toHaveLength(1);
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('refuses what it cannot continue, writing no attempt', async () => {
    await exec('tongbao.trade.create', { out_trade_no: 'continue-2', total_amount: '5.00', subject: 'continue' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2' })).toMatchObject({ code: '40001', subCode: 'isv.missing-parameter' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2', channel: 'sandbox', product: 'WECHAT_NATIVE' })).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2', channel: 'nowhere' })).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2', channel: 'sandbox', total_amount: '6.00' })).toMatchObject({ subCode: 'isv.unknown-parameter' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-nobody', channel: 'sandbox' })).toMatchObject({ subCode: 'ACQ.TRADE_NOT_EXIST' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2', channel: 'sandbox', payer_id: '' })).toMatchObject({ subCode: 'isv.invalid-parameter' });
    expect(await attemptsOf('continue-2')).toHaveLength(0);
    await exec('tongbao.trade.close', { out_trade_no: 'continue-2' });
    expect(await exec('tongbao.trade.page.pay', { out_trade_no: 'continue-2', channel: 'sandbox' })).toMatchObject({ subCode: 'ACQ.TRADE_HAS_CLOSE' });
    expect(await attemptsOf('continue-2')).toHaveLength(0);
  });
});
