import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';

let t: TestInstance;
beforeAll(async () => {
  t = await startTestInstance({
    TONGBAO_TEST_CLOCK: 'on',
    TONGBAO_CHANNEL_TIMEOUT_MS: '800',
    // Compensation queries far apart: the cancel, not a query job, must be what resolves an unknown payment.
    TONGBAO_COMPENSATION_RETRY_SECONDS: '3600,3600',
  });
});
afterAll(async () => { await t?.stop(); });

const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });
const tradeOf = async (outTradeNo: string) => (await t.query('select * from trades where out_trade_no = $1', [outTradeNo]))[0]!;
const refundsOf = async (outTradeNo: string) => t.query('select r.* from refunds r join trades tr using (trade_no) where tr.out_trade_no = $1 order by r.created_at', [outTradeNo]);
const pay = (outTradeNo: string, amount: string) => exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: amount, subject: 'cancel', channel: 'sandbox' });
const ledgerOk = async () => (await t.admin('GET', '/ledger/check')).body.ok as boolean;

describe('tongbao.trade.amount.modify', () => {
  it('changes the amount of an order awaiting payment, and the payment takes the new amount', async () => {
    await exec('tongbao.trade.create', { out_trade_no: 'modify-1', total_amount: '10.00', subject: 'modify' });
    const modified = await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-1', total_amount: '12.50' });
    expect(modified).toMatchObject({ code: '10000', totalAmount: '12.50', tradeStatus: 'WAIT_BUYER_PAY' });
    expect(await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-1', total_amount: '12.5' })).toMatchObject({ code: '10000', totalAmount: '12.50' });
    const paid = await exec('tongbao.trade.pay', { out_trade_no: 'modify-1', channel: 'sandbox' });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', receiptAmount: '12.50' });
    const [attempt] = await t.query("select a.amount_minor from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = 'modify-1'");
    expect(attempt!.amount_minor).toBe(1250n);
    const events = await t.query("select e.payload from events e join trades tr on e.aggregate_id = tr.trade_no where tr.out_trade_no = 'modify-1' and e.event_type = 'trade.amount_modified'");
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ from_minor: '1000', to_minor: '1250' });
  });

  it('refuses a paid trade, a trade with any attempt, a bad amount, an amount above the app limit and an unknown trade, changing nothing', async () => {
    expect(await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-1', total_amount: '1.00' })).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_STATUS_ERROR' });
    const declined = await pay('modify-declined', '40.04');
    expect(declined.subCode).toBe('ACQ.PAYMENT_FAIL');
    expect(await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-declined', total_amount: '41.00' })).toMatchObject({ code: '40004', subCode: 'ACQ.AMOUNT_MODIFY_NOT_ALLOWED' });
    await exec('tongbao.trade.create', { out_trade_no: 'modify-bad', total_amount: '3.00', subject: 'modify' });
    for (const bad of ['-1.00', '0', '1.001', 'abc', '99999999999999999999']) {
      const answer = await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-bad', total_amount: bad });
      expect(answer.code, bad).not.toBe('10000');
      expect(['isv.invalid-amount', 'ACQ.TOTAL_FEE_EXCEED']).toContain(answer.subCode);
    }
    expect(await exec('tongbao.trade.amount.modify', { out_trade_no: 'modify-nobody', total_amount: '1.00' })).toMatchObject({ subCode: 'ACQ.TRADE_NOT_EXIST' });
    expect((await tradeOf('modify-declined')).total_amount_minor).toBe(4004n);
    expect((await tradeOf('modify-bad')).total_amount_minor).toBe(300n);
    expect((await tradeOf('modify-1')).total_amount_minor).toBe(1250n);
  });

  it('racing a payment, never leaves an attempt for another amount than the trade', async () => {
    for (let round = 0; round < 5; round++) {
      const outTradeNo = `modify-race-${round}`;
      await exec('tongbao.trade.create', { out_trade_no: outTradeNo, total_amount: '20.00', subject: 'race' });
      const [modified, paid] = await Promise.all([
        exec('tongbao.trade.amount.modify', { out_trade_no: outTradeNo, total_amount: '25.00' }),
        exec('tongbao.trade.pay', { out_trade_no: outTradeNo, channel: 'sandbox' }),
      ]);
      expect(paid.code).toBe('10000');
      const trade = await tradeOf(outTradeNo);
      expect(trade.paid_amount_minor).toBe(trade.total_amount_minor);
      expect(trade.total_amount_minor).toBe(modified.code === '10000' ? 2500n : 2000n);
    }
  });
});

describe('tongbao.trade.cancel', () => {
  it('closes an unpaid trade, and answers the same when repeated', async () => {
    await exec('tongbao.trade.create', { out_trade_no: 'cancel-unpaid', total_amount: '9.00', subject: 'cancel' });
    const cancelled = await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-unpaid' });
    expect(cancelled).toMatchObject({ code: '10000', action: 'close', retryFlag: 'N', tradeStatus: 'TRADE_CLOSED' });
    expect((await tradeOf('cancel-unpaid')).close_reason).toBe('CANCELLED');
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-unpaid' })).toMatchObject({ code: '10000', action: 'close' });
  });

  it('returns the whole payment of a trade paid today and closes it; repeated and parallel cancels make one reversal', async () => {
    const paid = await pay('cancel-paid', '33.00');
    expect(paid.tradeStatus).toBe('TRADE_SUCCESS');
    const answers = await Promise.all(Array.from({ length: 5 }, () => exec('tongbao.trade.cancel', { out_trade_no: 'cancel-paid' })));
    for (const answer of answers) expect(answer).toMatchObject({ code: '10000', action: 'refund' });
    const refunds = await refundsOf('cancel-paid');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ kind: 'CANCEL', amount_minor: 3300n, status: 'REFUND_SUCCESS' });
    const trade = await tradeOf('cancel-paid');
    expect(trade).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'CANCELLED', refunded_amount_minor: 3300n });
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-paid' })).toMatchObject({ code: '10000', action: 'refund', refundStatus: 'REFUND_SUCCESS' });
    // A cancelled trade is not refundable any more, and the merchant's money went back out.
    expect(await exec('tongbao.trade.refund', { out_trade_no: 'cancel-paid', refund_amount: '1.00', out_request_no: 'after-cancel' })).toMatchObject({ subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });
    const postings = await t.query("select kind from journal_transactions where reference in (select refund_no from refunds r join trades tr using (trade_no) where tr.out_trade_no = 'cancel-paid')");
    expect(postings.map((row) => row.kind)).toEqual(['REFUND']);
    expect(await ledgerOk()).toBe(true);
  });

  it('refuses a trade with a refund, and a cancel racing a refund lets exactly one of them through', async () => {
    await pay('cancel-refunded', '20.00');
    await exec('tongbao.trade.refund', { out_trade_no: 'cancel-refunded', refund_amount: '1.00', out_request_no: 'r1' });
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-refunded' })).toMatchObject({ code: '40004', subCode: 'ACQ.CANCEL_NOT_ALLOWED' });
    expect(await refundsOf('cancel-refunded')).toHaveLength(1);

    await pay('cancel-race', '20.00');
    const [cancelled, refunded] = await Promise.all([
      exec('tongbao.trade.cancel', { out_trade_no: 'cancel-race' }),
      exec('tongbao.trade.refund', { out_trade_no: 'cancel-race', refund_amount: '5.00', out_request_no: 'race' }),
    ]);
    expect([cancelled.code, refunded.code].filter((code) => code === '10000')).toHaveLength(1);
    const trade = await tradeOf('cancel-race');
    expect(trade.refunded_amount_minor).toBe(cancelled.code === '10000' ? 2000n : 500n);
  });

  it('asks the channel about a payment whose result is unknown: charged is reversed, not charged is closed', async () => {
    const charged = await pay('cancel-unknown-charged', '50.05');
    expect(charged.code).toBe('20000');
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-unknown-charged' })).toMatchObject({ code: '10000', action: 'refund' });
    expect(await tradeOf('cancel-unknown-charged')).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'CANCELLED', paid_amount_minor: 5005n, refunded_amount_minor: 5005n });

    const uncharged = await pay('cancel-unknown-free', '50.04');
    expect(uncharged.code).toBe('20000');
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-unknown-free' })).toMatchObject({ code: '10000', action: 'close' });
    expect(await tradeOf('cancel-unknown-free')).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'CANCELLED', paid_amount_minor: 0n });
    expect(await ledgerOk()).toBe(true);
  });

  it('refuses after the day\'s cut-off and tells the caller to refund, changing nothing', async () => {
    await pay('cancel-late', '15.00');
    await t.admin('POST', '/test-clock/advance', { seconds: 25 * 3600 });
    const refused = await exec('tongbao.trade.cancel', { out_trade_no: 'cancel-late' });
    expect(refused).toMatchObject({ code: '40004', subCode: 'ACQ.CANCEL_NOT_ALLOWED' });
    expect(refused.subMsg).toMatch(/refund it instead/);
    expect(await refundsOf('cancel-late')).toHaveLength(0);
    expect((await tradeOf('cancel-late')).status).toBe('TRADE_SUCCESS');
    expect(await exec('tongbao.trade.refund', { out_trade_no: 'cancel-late', refund_amount: '15.00', out_request_no: 'instead' })).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
  });
});
