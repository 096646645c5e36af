import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
beforeAll(async () => { t = await startTestInstance(); });
afterAll(async () => { await t?.stop(); });

describe('instant payment through the gateway with the official alipay-sdk', () => {
  it('creates, pays, refunds and queries with validated signatures', async () => {
    const sdk = t.sdk();
    const created = await sdk.exec('tongbao.trade.create', { bizContent: { out_trade_no: 'flow-1', total_amount: '88.88', subject: 'flow' } }, { validateSign: true });
    expect(created).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY', outTradeNo: 'flow-1', totalAmount: '88.88' });
    const paid = await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'flow-1', channel: 'sandbox' } }, { validateSign: true });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', receiptAmount: '88.88', channel: 'sandbox' });
    const refund = await sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: 'flow-1', refund_amount: '8.88', out_request_no: 'r1' } }, { validateSign: true });
    expect(refund).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS', refundAmount: '8.88', refundFee: '8.88' });
    const queried = await sdk.exec('tongbao.trade.query', { bizContent: { trade_no: created.tradeNo } }, { validateSign: true });
    expect(queried).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', refundFee: '8.88' });
    const refundQuery = await sdk.exec('tongbao.trade.refund.query', { bizContent: { out_trade_no: 'flow-1', out_request_no: 'r1' } }, { validateSign: true });
    expect(refundQuery).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
    const check = await t.admin('GET', '/ledger/check');
    expect(check.body.ok).toBe(true);
  });
});
