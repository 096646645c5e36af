import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
beforeAll(async () => { t = await startTestInstance(); });
afterAll(async () => { await t?.stop(); });

describe('idempotency under races', () => {
  it('50 parallel identical creates make exactly one order', async () => {
    const sdk = t.sdk();
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      sdk.exec('tongbao.trade.create', { bizContent: { out_trade_no: 'race-create-1', total_amount: '50.00', subject: 'race' } }, { validateSign: true })));
    expect(results.every((result) => result.code === '10000')).toBe(true);
    expect(new Set(results.map((result) => result.tradeNo)).size).toBe(1);
    expect(await t.query("select * from trades where out_trade_no = 'race-create-1'")).toHaveLength(1);
    expect(await t.query("select * from events e join trades tr on tr.trade_no = e.aggregate_id where tr.out_trade_no = 'race-create-1' and e.event_type = 'trade.created'")).toHaveLength(1);

    const conflicting = await sdk.exec('tongbao.trade.create', { bizContent: { out_trade_no: 'race-create-1', total_amount: '51.00', subject: 'race' } }, { validateSign: true });
    expect(conflicting).toMatchObject({ code: '40004', subCode: 'ACQ.CONTEXT_INCONSISTENT' });
  });

  it('20 parallel refunds of 10% each refund exactly the paid amount and reject the rest cleanly', async () => {
    const sdk = t.sdk();
    const paid = await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'race-refund-1', total_amount: '100.00', subject: 'race', channel: 'sandbox' } }, { validateSign: true });
    expect(paid.tradeStatus).toBe('TRADE_SUCCESS');
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) =>
      sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: 'race-refund-1', refund_amount: '10.00', out_request_no: `r-${index}` } }, { validateSign: true })));
    const succeeded = results.filter((result) => result.code === '10000');
    const refused = results.filter((result) => result.code !== '10000');
    expect(succeeded).toHaveLength(10);
    expect(succeeded.every((result) => result.refundStatus === 'REFUND_SUCCESS')).toBe(true);
    expect(refused.every((result) => result.subCode === 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' || result.subCode === 'ACQ.TRADE_NOT_ALLOW_REFUND')).toBe(true);
    const [trade] = await t.query("select * from trades where out_trade_no = 'race-refund-1'");
    expect(trade).toMatchObject({ refunded_amount_minor: 10000n, refund_reserved_minor: 10000n, status: 'TRADE_CLOSED' });
    expect(await t.query("select * from refunds where trade_no = $1", [paid.tradeNo])).toHaveLength(10);
    const [refunds] = await t.query("select count(*) from journal_transactions where kind = 'REFUND'");
    expect(refunds!.count).toBe(10n);
  });

  it('parallel refunds with the same out_request_no create one refund', async () => {
    const sdk = t.sdk();
    await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'race-refund-2', total_amount: '30.00', subject: 'race', channel: 'sandbox' } }, { validateSign: true });
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: 'race-refund-2', refund_amount: '5.00', out_request_no: 'same' } }, { validateSign: true })));
    expect(results.filter((result) => result.code !== '10000')).toEqual([]);
    expect(new Set(results.map((result) => result.refundNo)).size).toBe(1);
    const [trade] = await t.query("select * from trades where out_trade_no = 'race-refund-2'");
    expect(trade!.refunded_amount_minor).toBe(500n);
    const conflict = await sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: 'race-refund-2', refund_amount: '6.00', out_request_no: 'same' } }, { validateSign: true });
    expect(conflict).toMatchObject({ code: '40004', subCode: 'ACQ.REFUND_REQUEST_CONFLICT' });
  });

  it('two parallel pays of one order charge the channel once', async () => {
    const sdk = t.sdk();
    const created = await sdk.exec('tongbao.trade.create', { bizContent: { out_trade_no: 'race-pay-1', total_amount: '20.00', subject: 'race' } }, { validateSign: true });
    const results = await Promise.all(Array.from({ length: 2 }, () =>
      sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'race-pay-1', channel: 'sandbox' } }, { validateSign: true })));
    for (const result of results) {
      // The loser either sees the payment in progress or, arriving later, the finished payment.
      expect(result.code === '10000' ? result.tradeStatus : result.subCode).toMatch(/^(TRADE_SUCCESS|ACQ.PAY_IN_PROGRESS)$/);
    }
    expect(results.some((result) => result.tradeStatus === 'TRADE_SUCCESS')).toBe(true);
    expect(await t.query('select * from pay_attempts where trade_no = $1', [created.tradeNo])).toHaveLength(1);
    expect(await t.query("select * from journal_transactions where kind = 'PAYMENT' and description = $1", [`trade ${created.tradeNo}`])).toHaveLength(1);
    // Paying again later is idempotent: the same answer, no new attempt.
    const again = await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'race-pay-1', channel: 'sandbox' } }, { validateSign: true });
    expect(again).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await t.query('select * from pay_attempts where trade_no = $1', [created.tradeNo])).toHaveLength(1);
  });

  it('keeps the ledger balanced', async () => {
    expect((await t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });
  });
});
