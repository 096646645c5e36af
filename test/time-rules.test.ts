import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';

/**
 * The time-driven rules of escrow and pre-authorization on the test clock, at their real default lengths:
 * a 10-day escrow confirm period and a 30-day hold, passed in seconds of test time.
 */
let t: TestInstance;
beforeAll(async () => { t = await startTestInstance({ TONGBAO_TEST_CLOCK: 'on' }); });
afterAll(async () => { await t?.stop(); });

const day = 86_400;
const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });
const advance = async (seconds: number) => expect((await t.admin('POST', '/test-clock/advance', { seconds })).status).toBe(200);

describe('time-driven rules on the test clock', () => {
  it('settles an escrow trade by itself when the 10-day confirm period ends, not before', async () => {
    const paid = await exec('tongbao.trade.pay', { out_trade_no: 'clock-escrow', total_amount: '120.00', subject: 'escrow', channel: 'sandbox', trade_type: 'ESCROW', escrow_amount: '100.00' });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', unsettledAmount: '100.00' });
    await advance(10 * day - 120);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await exec('tongbao.trade.query', { out_trade_no: 'clock-escrow' })).unsettledAmount).toBe('100.00');
    await advance(180);
    const settled = await until(() => exec('tongbao.trade.query', { out_trade_no: 'clock-escrow' }), (answer) => answer.unsettledAmount === '0.00');
    expect(settled).toMatchObject({ settledAmount: '100.00', tradeStatus: 'TRADE_SUCCESS' });
    const [settlement] = await t.query("select s.* from settlements s join trades tr using (trade_no) where tr.out_trade_no = 'clock-escrow'");
    expect(settlement).toMatchObject({ source: 'AUTO', amount_minor: 10_000n });
  });

  it('releases a pre-authorization hold when its 30-day period ends, not before', async () => {
    const frozen = await exec('tongbao.preauth.freeze', { out_order_no: 'clock-hold', out_request_no: 'f', amount: '300.00', subject: 'deposit', channel: 'sandbox' });
    expect(frozen).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED' });
    await advance(30 * day - 120);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await exec('tongbao.preauth.query', { out_order_no: 'clock-hold' })).authStatus).toBe('AUTHORIZED');
    expect(await exec('tongbao.preauth.complete', { out_order_no: 'clock-hold', out_request_no: 'c-early', amount: '1.00' })).toMatchObject({ code: '10000' });
    // A fresh hold, then past its deadline: the expiry releases it and no step is accepted any more.
    await exec('tongbao.preauth.freeze', { out_order_no: 'clock-hold-2', out_request_no: 'f', amount: '200.00', subject: 'deposit', channel: 'sandbox' });
    await advance(30 * day + 60);
    const expired = await until(() => exec('tongbao.preauth.query', { out_order_no: 'clock-hold-2' }), (answer) => answer.authStatus === 'EXPIRED');
    expect(expired.restAmount).toBe('0.00');
    expect(await exec('tongbao.preauth.complete', { out_order_no: 'clock-hold-2', out_request_no: 'c-late', amount: '1.00' })).toMatchObject({ subCode: 'AUTH.ORDER_HAS_EXPIRED' });
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });
});
