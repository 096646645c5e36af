import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { footprint, moved, startEscrowFixture, type EscrowFixture } from './helpers/escrow.js';

let f: EscrowFixture;
beforeAll(async () => { f = await startEscrowFixture(); });
afterAll(async () => { await f?.t.stop(); });

const zero = { escrow: 0n, merchant: 0n, receiverA: 0n, receiverB: 0n, platformFee: 0n, clearing: 0n };
const payInstant = (outTradeNo: string, total: string, royalty?: unknown[]) =>
  f.exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: total, subject: 'royalty', channel: 'sandbox', ...(royalty ? { royalty_parameters: royalty } : {}) });

describe('profit sharing on instant trades', () => {
  it('splits the payment among the receivers in one balanced posting; the merchant gets the rest', async () => {
    const royalty = [
      { trans_in_type: 'MERCHANT', trans_in: f.receiverA, amount: '10.00' },
      { trans_in_type: 'MERCHANT', trans_in: f.receiverB, amount: '5.50' },
      { trans_in_type: 'PLATFORM', amount: '3.00' },
    ];
    const before = await f.balances();
    const paid = await payInstant('royalty-1', '100.00', royalty);
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', tradeType: 'INSTANT', royaltyAmount: '18.50' });
    expect(paid.escrowAmount).toBeUndefined();
    expect(moved(before, await f.balances())).toEqual({ ...zero, merchant: 8150n, receiverA: 1000n, receiverB: 550n, platformFee: 300n, clearing: 10000n });
    const transactions = await f.t.query("select transaction_id from journal_transactions where kind = 'PAYMENT' and reference = $1", [paid.attemptNo]);
    expect(transactions).toHaveLength(1);
    expect(await f.t.query('select * from journal_entries where transaction_id = $1', [transactions[0]!.transaction_id])).toHaveLength(5);
    expect(await f.tradeOf('royalty-1')).toMatchObject({ royalty_amount_minor: 1850n, fully_settled: true });

    // Creating again with the same splits is idempotent; other splits are another order.
    const same = await f.exec('tongbao.trade.create', { out_trade_no: 'royalty-1', total_amount: '100.00', subject: 'royalty', royalty_parameters: royalty });
    expect(same).toMatchObject({ code: '10000', tradeNo: paid.tradeNo });
    const other = await f.exec('tongbao.trade.create', { out_trade_no: 'royalty-1', total_amount: '100.00', subject: 'royalty', royalty_parameters: royalty.slice(0, 2) });
    expect(other).toMatchObject({ code: '40004', subCode: 'ACQ.CONTEXT_INCONSISTENT' });
    const none = await f.exec('tongbao.trade.create', { out_trade_no: 'royalty-1', total_amount: '100.00', subject: 'royalty' });
    expect(none).toMatchObject({ code: '40004', subCode: 'ACQ.CONTEXT_INCONSISTENT' });

    // A refund of a split trade comes out of the trade's own merchant account; receivers keep their shares.
    const refundBefore = await f.balances();
    const refunded = await f.exec('tongbao.trade.refund', { out_trade_no: 'royalty-1', out_request_no: 'r1', refund_amount: '90.00' });
    expect(refunded).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
    expect(moved(refundBefore, await f.balances())).toEqual({ ...zero, merchant: -9000n, clearing: -9000n });
  });

  it('may share all of the payment: the merchant then gets no entry at all', async () => {
    const before = await f.balances();
    const paid = await payInstant('royalty-all', '20.00', [{ trans_in_type: 'PLATFORM', amount: '20.00' }]);
    expect(paid).toMatchObject({ code: '10000', royaltyAmount: '20.00' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, platformFee: 2000n, clearing: 2000n });
  });

  it('an instant trade without splits posts exactly as before', async () => {
    const before = await f.balances();
    const paid = await payInstant('royalty-none', '7.00');
    expect(paid).toMatchObject({ code: '10000', tradeType: 'INSTANT' });
    expect(paid.royaltyAmount).toBeUndefined();
    expect(moved(before, await f.balances())).toEqual({ ...zero, merchant: 700n, clearing: 700n });
  });
});

describe('bad inputs are refused with precise codes and change nothing', () => {
  const create = (biz: Record<string, unknown>) => f.exec('tongbao.trade.create', { out_trade_no: 'bad-create', total_amount: '100.00', subject: 'bad', ...biz });
  const receiver = (merchantId: string, amount = '1.00') => ({ trans_in_type: 'MERCHANT', trans_in: merchantId, amount });

  it('at creation (create, and create-and-pay)', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['escrow_amount on an instant trade', { escrow_amount: '10.00' }, 'isv.escrow-amount-not-allowed'],
      ['escrow_amount above total_amount', { trade_type: 'ESCROW', escrow_amount: '100.01' }, 'ACQ.ESCROW_AMOUNT_EXCEED'],
      ['zero escrow_amount', { trade_type: 'ESCROW', escrow_amount: '0.00' }, 'isv.invalid-amount'],
      ['over-precise escrow_amount', { trade_type: 'ESCROW', escrow_amount: '1.001' }, 'isv.invalid-amount'],
      ['an unknown trade_type', { trade_type: 'LAYAWAY' }, 'isv.invalid-parameter'],
      ['splits on an escrow trade', { trade_type: 'ESCROW', royalty_parameters: [{ trans_in_type: 'PLATFORM', amount: '1.00' }] }, 'isv.royalty-not-allowed'],
      ['splits above the total', { royalty_parameters: [receiver(f.receiverA, '60.00'), { trans_in_type: 'PLATFORM', amount: '40.01' }] }, 'ACQ.ROYALTY_AMOUNT_EXCEED'],
      ['an unknown receiver', { royalty_parameters: [receiver('2088999999999999')] }, 'ACQ.ROYALTY_RECEIVER_INVALID'],
      ['a frozen receiver', { royalty_parameters: [receiver(f.frozenMerchant)] }, 'ACQ.ROYALTY_RECEIVER_INVALID'],
      ['the trade\'s own merchant as receiver', { royalty_parameters: [receiver(f.merchantId)] }, 'ACQ.ROYALTY_RECEIVER_INVALID'],
      ['a duplicate merchant receiver', { royalty_parameters: [receiver(f.receiverA), receiver(f.receiverA)] }, 'isv.royalty-duplicate-receiver'],
      ['the platform twice', { royalty_parameters: [{ trans_in_type: 'PLATFORM', amount: '1.00' }, { trans_in_type: 'PLATFORM', amount: '2.00' }] }, 'isv.royalty-duplicate-receiver'],
      ['a zero share', { royalty_parameters: [receiver(f.receiverA, '0.00')] }, 'isv.invalid-amount'],
      ['a negative share', { royalty_parameters: [receiver(f.receiverA, '-1.00')] }, 'isv.invalid-amount'],
      ['an over-precise share', { royalty_parameters: [receiver(f.receiverA, '1.001')] }, 'isv.invalid-amount'],
      ['too many receivers', { royalty_parameters: [...Array.from({ length: 10 }, () => ({ trans_in_type: 'PLATFORM', amount: '1.00' })), receiver(f.receiverA)] }, 'isv.royalty-too-many-receivers'],
      ['a merchant receiver without trans_in', { royalty_parameters: [{ trans_in_type: 'MERCHANT', amount: '1.00' }] }, 'isv.missing-parameter'],
      ['trans_in for the platform', { royalty_parameters: [{ trans_in_type: 'PLATFORM', trans_in: f.receiverA, amount: '1.00' }] }, 'isv.invalid-parameter'],
      ['an empty split list', { royalty_parameters: [] }, 'isv.invalid-parameter'],
      ['an unknown field in a split', { royalty_parameters: [{ ...receiver(f.receiverA), ratio: '0.1' }] }, 'isv.unknown-parameter'],
    ];
    const before = await footprint(f.t);
    for (const [name, biz, subCode] of cases) {
      expect({ name, answer: await create(biz) }).toMatchObject({ name, answer: { subCode } });
      const paid = await f.exec('tongbao.trade.pay', { out_trade_no: 'bad-pay', total_amount: '100.00', subject: 'bad', channel: 'sandbox', ...biz });
      expect({ name, answer: paid }).toMatchObject({ name, answer: { subCode } });
    }
    expect(await footprint(f.t)).toEqual(before);

    // An existing order with other escrow terms.
    await f.exec('tongbao.trade.create', { out_trade_no: 'bad-terms', total_amount: '100.00', subject: 'bad', trade_type: 'ESCROW', escrow_amount: '50.00' });
    for (const terms of [{}, { trade_type: 'ESCROW' }, { trade_type: 'ESCROW', escrow_amount: '50.01' }]) {
      const answer = await f.exec('tongbao.trade.create', { out_trade_no: 'bad-terms', total_amount: '100.00', subject: 'bad', ...terms });
      expect(answer).toMatchObject({ code: '40004', subCode: 'ACQ.CONTEXT_INCONSISTENT' });
    }
  });

  it('when settling or confirming', async () => {
    const pay = (outTradeNo: string, biz: Record<string, unknown> = {}) =>
      f.exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: '100.00', subject: 'bad', channel: 'sandbox', ...biz });
    await pay('bad-escrow', { trade_type: 'ESCROW' });
    await pay('bad-instant');
    await f.exec('tongbao.trade.create', { out_trade_no: 'bad-unpaid', total_amount: '100.00', subject: 'bad', trade_type: 'ESCROW' });
    await f.exec('tongbao.trade.create', { out_trade_no: 'bad-closed', total_amount: '100.00', subject: 'bad', trade_type: 'ESCROW' });
    await f.exec('tongbao.trade.close', { out_trade_no: 'bad-closed' });
    const settleOn = (outTradeNo: string, biz: Record<string, unknown> = {}) => f.exec('tongbao.trade.settle', { out_trade_no: outTradeNo, out_request_no: 'bad', ...biz });
    const cases: Array<[string, () => Promise<Record<string, any>>, string]> = [
      ['over-settling', () => settleOn('bad-escrow', { settle_amount: '100.01' }), 'ACQ.SETTLE_AMOUNT_EXCEED'],
      ['an unpaid trade', () => settleOn('bad-unpaid'), 'ACQ.TRADE_STATUS_ERROR'],
      ['a closed trade', () => settleOn('bad-closed'), 'ACQ.TRADE_HAS_CLOSE'],
      ['an instant trade', () => settleOn('bad-instant'), 'ACQ.TRADE_NOT_ESCROW'],
      ['an unknown trade', () => settleOn('bad-nothing'), 'ACQ.TRADE_NOT_EXIST'],
      ['splits above the settled amount', () => settleOn('bad-escrow', { settle_amount: '10.00', royalty_parameters: [receiver(f.receiverA, '10.01')] }), 'ACQ.ROYALTY_AMOUNT_EXCEED'],
      ['splits above what remains (settling all)', () => settleOn('bad-escrow', { royalty_parameters: [receiver(f.receiverA, '100.01')] }), 'ACQ.ROYALTY_AMOUNT_EXCEED'],
      ['a frozen receiver', () => settleOn('bad-escrow', { royalty_parameters: [receiver(f.frozenMerchant)] }), 'ACQ.ROYALTY_RECEIVER_INVALID'],
      ['a duplicate receiver', () => settleOn('bad-escrow', { royalty_parameters: [receiver(f.receiverB), receiver(f.receiverB)] }), 'isv.royalty-duplicate-receiver'],
      ['a zero settle_amount', () => settleOn('bad-escrow', { settle_amount: '0' }), 'isv.invalid-amount'],
      ['an over-precise settle_amount', () => settleOn('bad-escrow', { settle_amount: '1.001' }), 'isv.invalid-amount'],
      ['out_request_no with =', () => settleOn('bad-escrow', { out_request_no: 'auto=0' }), 'isv.invalid-characters'],
      ['no out_request_no', () => f.exec('tongbao.trade.settle', { out_trade_no: 'bad-escrow' }), 'isv.missing-parameter'],
      ['confirming an instant trade', () => f.exec('tongbao.trade.confirm', { out_trade_no: 'bad-instant' }), 'ACQ.TRADE_NOT_ESCROW'],
      ['confirming an unpaid trade', () => f.exec('tongbao.trade.confirm', { out_trade_no: 'bad-unpaid' }), 'ACQ.TRADE_STATUS_ERROR'],
      ['confirming a closed trade', () => f.exec('tongbao.trade.confirm', { out_trade_no: 'bad-closed' }), 'ACQ.TRADE_HAS_CLOSE'],
    ];
    const before = await footprint(f.t);
    for (const [name, call, subCode] of cases) expect({ name, answer: await call() }).toMatchObject({ name, answer: { subCode } });
    expect(await footprint(f.t)).toEqual(before);
    expect(await f.tradeOf('bad-unpaid')).toMatchObject({ buyer_confirmed_at: null, settled_amount_minor: 0n });
    // The refused requests used up nothing: the same number settles now, and all of the escrow is still there.
    expect(await settleOn('bad-escrow')).toMatchObject({ code: '10000', settleAmount: '100.00' });
  });

  it('keeps the ledger balanced', async () => {
    expect((await f.t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true });
  });
});
