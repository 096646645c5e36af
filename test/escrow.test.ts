import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longConfirmSeconds, moved, startEscrowFixture, type EscrowFixture } from './helpers/escrow.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';

let f: EscrowFixture;
let sink: NotifySink;
beforeAll(async () => {
  f = await startEscrowFixture();
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await f?.t.stop();
});

const payEscrow = (outTradeNo: string, total: string, extra: Record<string, unknown> = {}) =>
  f.exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: total, subject: 'escrow', channel: 'sandbox', trade_type: 'ESCROW', notify_url: sink.url, ...extra });
const settle = (outTradeNo: string, outRequestNo: string, extra: Record<string, unknown> = {}) =>
  f.exec('tongbao.trade.settle', { out_trade_no: outTradeNo, out_request_no: outRequestNo, ...extra });
const refund = (outTradeNo: string, outRequestNo: string, amount: string) =>
  f.exec('tongbao.trade.refund', { out_trade_no: outTradeNo, out_request_no: outRequestNo, refund_amount: amount });
const zero = { escrow: 0n, merchant: 0n, receiverA: 0n, receiverB: 0n, platformFee: 0n, clearing: 0n };

async function postingOf(kind: string, reference: string) {
  return f.t.query(
    `select a.code, e.side, e.amount_minor from journal_transactions j join journal_entries e using (transaction_id)
     join ledger_accounts a using (account_id) where j.kind = $1 and j.reference = $2 order by e.entry_id`, [kind, reference]);
}

describe('escrow trades', () => {
  it('full escrow: paid into escrow, settled twice in part (once split), the rest by confirmation, each settlement notified', async () => {
    const before = await f.balances();
    const paid = await payEscrow('escrow-full', '100.00');
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', tradeType: 'ESCROW', escrowAmount: '100.00', settledAmount: '0.00', unsettledAmount: '100.00' });
    expect(paid.gmtAutoSettle).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(moved(before, await f.balances())).toEqual({ ...zero, escrow: 10000n, clearing: 10000n });
    expect(await postingOf('PAYMENT', paid.attemptNo)).toEqual([
      { code: 'channel:sandbox:clearing:CNY', side: 'DEBIT', amount_minor: 10000n },
      { code: 'platform:escrow:CNY', side: 'CREDIT', amount_minor: 10000n },
    ]);

    const first = await settle('escrow-full', 's1', { settle_amount: '30.00' });
    expect(first).toMatchObject({ code: '10000', outRequestNo: 's1', settleType: 'MERCHANT', settleStatus: 'SETTLE_SUCCESS', settleAmount: '30.00', settledAmount: '30.00', unsettledAmount: '70.00', tradeStatus: 'TRADE_SUCCESS' });
    const royalty = [{ trans_in_type: 'MERCHANT', trans_in: f.receiverA, amount: '5.00' }, { trans_in_type: 'PLATFORM', amount: '2.00' }];
    const second = await settle('escrow-full', 's2', { settle_amount: '50.00', royalty_parameters: royalty });
    expect(second).toMatchObject({ code: '10000', settleAmount: '50.00', settledAmount: '80.00', unsettledAmount: '20.00' });
    expect(JSON.parse(second.royaltyParameters)).toEqual(royalty);
    expect(moved(before, await f.balances())).toEqual({ ...zero, escrow: 2000n, merchant: 7300n, receiverA: 500n, platformFee: 200n, clearing: 10000n });
    expect(await postingOf('SETTLEMENT', second.settleNo)).toHaveLength(4);
    expect(await f.tradeOf('escrow-full')).toMatchObject({ settled_amount_minor: 8000n, fully_settled: false });

    // The same request again answers with the same settlement; the same number with other parameters is refused.
    expect(await settle('escrow-full', 's1', { settle_amount: '30.00' })).toMatchObject({ code: '10000', settleNo: first.settleNo });
    expect(await settle('escrow-full', 's1', { settle_amount: '31.00' })).toMatchObject({ code: '40004', subCode: 'ACQ.SETTLE_REQUEST_CONFLICT' });
    expect(await settle('escrow-full', 's2', { settle_amount: '50.00' })).toMatchObject({ code: '40004', subCode: 'ACQ.SETTLE_REQUEST_CONFLICT' });

    const confirmed = await f.exec('tongbao.trade.confirm', { out_trade_no: 'escrow-full' });
    expect(confirmed).toMatchObject({ code: '10000', settleAmount: '20.00', settledAmount: '100.00', unsettledAmount: '0.00' });
    expect(confirmed.gmtConfirm).toBeTruthy();
    const again = await f.exec('tongbao.trade.confirm', { out_trade_no: 'escrow-full' });
    expect(again).toMatchObject({ code: '10000', settleNo: confirmed.settleNo, settledAmount: '100.00' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, merchant: 9300n, receiverA: 500n, platformFee: 200n, clearing: 10000n });
    expect(await f.tradeOf('escrow-full')).toMatchObject({ status: 'TRADE_SUCCESS', fully_settled: true });
    expect(await settle('escrow-full', 's3')).toMatchObject({ code: '40004', subCode: 'ACQ.SETTLE_AMOUNT_EXCEED' });

    const notices = await f.until(async () => sink.received.filter((post) => post.fields.notify_type === 'settle_status_sync' && post.fields.out_trade_no === 'escrow-full'), (posts) => posts.length >= 3);
    expect(notices).toHaveLength(3);
    for (const notice of notices) expect(f.t.sdk().checkNotifySignV2(notice.fields)).toBe(true);
    const bySettleNo = Object.fromEntries(notices.map((notice) => [notice.fields.settle_no, notice.fields]));
    expect(bySettleNo[first.settleNo]).toMatchObject({ out_request_no: 's1', settle_type: 'MERCHANT', settle_status: 'SETTLE_SUCCESS', settle_amount: '30.00', unsettled_amount: '70.00', trade_status: 'TRADE_SUCCESS' });
    expect(JSON.parse(bySettleNo[second.settleNo]!.royalty_parameters!)).toEqual(royalty);
    expect(bySettleNo[confirmed.settleNo]).toMatchObject({ settle_type: 'CONFIRM', settle_amount: '20.00', unsettled_amount: '0.00' });
    expect(bySettleNo[confirmed.settleNo]!.out_request_no).toBeUndefined();
  });

  it('partial escrow: the unescrowed part goes to the merchant at once, in the same posting', async () => {
    const before = await f.balances();
    const paid = await payEscrow('escrow-part', '100.00', { escrow_amount: '60.00' });
    expect(paid).toMatchObject({ code: '10000', escrowAmount: '60.00', unsettledAmount: '60.00', receiptAmount: '100.00' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, escrow: 6000n, merchant: 4000n, clearing: 10000n });
    expect(await postingOf('PAYMENT', paid.attemptNo)).toHaveLength(3);
    expect(await settle('escrow-part', 'all')).toMatchObject({ code: '10000', settleAmount: '60.00', unsettledAmount: '0.00' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, merchant: 10000n, clearing: 10000n });
  });

  it('refunds come out of escrow before settlement and out of the merchant after it; a failed refund gives its escrow back', async () => {
    const before = await f.balances();
    await payEscrow('escrow-refund', '100.00');
    const early = await refund('escrow-refund', 'r1', '20.00');
    expect(early).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, escrow: 8000n, clearing: 8000n });
    expect((await f.t.query('select from_escrow_minor from refunds where refund_no = $1', [early.refundNo]))[0]).toEqual({ from_escrow_minor: 2000n });

    expect(await settle('escrow-refund', 's1', { settle_amount: '50.00' })).toMatchObject({ code: '10000', unsettledAmount: '30.00' });
    // 30.00 is still in escrow: a refund of 40.00 takes those and 10.00 from the merchant.
    const mixed = await refund('escrow-refund', 'r2', '40.00');
    expect(mixed).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
    expect(await postingOf('REFUND', mixed.refundNo)).toEqual([
      { code: 'platform:escrow:CNY', side: 'DEBIT', amount_minor: 3000n },
      { code: `merchant:${f.merchantId}:pending:CNY`, side: 'DEBIT', amount_minor: 1000n },
      { code: 'channel:sandbox:clearing:CNY', side: 'CREDIT', amount_minor: 4000n },
    ]);
    const late = await refund('escrow-refund', 'r3', '10.00');
    expect(late).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
    expect(moved(before, await f.balances())).toEqual({ ...zero, merchant: 3000n, clearing: 3000n });
    expect(await f.tradeOf('escrow-refund')).toMatchObject({ settled_amount_minor: 5000n, escrow_refunded_minor: 5000n, refunded_amount_minor: 7000n, fully_settled: true });
    expect(await settle('escrow-refund', 's2', { settle_amount: '0.01' })).toMatchObject({ code: '40004', subCode: 'ACQ.SETTLE_AMOUNT_EXCEED' });

    // The bank declines a refund of 40.04: the escrow it had reserved can be settled again.
    await payEscrow('escrow-refund-fail', '100.00');
    expect(await refund('escrow-refund-fail', 'r1', '40.04')).toMatchObject({ code: '10000', refundStatus: 'REFUND_FAILED' });
    expect(await f.tradeOf('escrow-refund-fail')).toMatchObject({ escrow_refund_reserved_minor: 0n, refund_reserved_minor: 0n });
    expect(await settle('escrow-refund-fail', 's1')).toMatchObject({ code: '10000', settleAmount: '100.00' });
  });

  it('confirming a fully settled trade records the confirmation and settles nothing', async () => {
    await payEscrow('escrow-confirm-empty', '10.00');
    await settle('escrow-confirm-empty', 'all');
    const confirmed = await f.exec('tongbao.trade.confirm', { out_trade_no: 'escrow-confirm-empty' });
    expect(confirmed).toMatchObject({ code: '10000', settledAmount: '10.00' });
    expect(confirmed.settleNo).toBeUndefined();
    expect(await f.t.query("select * from settlements s join trades t using (trade_no) where t.out_trade_no = 'escrow-confirm-empty'")).toHaveLength(1);
  });

  it('settles by itself when the confirm period runs out, by its job or by the sweep when the job was lost', async () => {
    // The demo merchant goes back to the platform default (one second in this test instance).
    expect((await f.t.admin('PATCH', `/merchants/${f.merchantId}`, { escrow_confirm_seconds: null })).body).toMatchObject({ escrow_confirm_seconds: null });
    try {
      await payEscrow('escrow-auto', '12.00');
    } finally {
      await f.t.admin('PATCH', `/merchants/${f.merchantId}`, { escrow_confirm_seconds: longConfirmSeconds });
    }
    const settled = await f.until(() => f.tradeOf('escrow-auto'), (trade) => trade.settled_amount_minor === 1200n);
    expect(settled.fully_settled).toBe(true);
    expect((await f.t.query('select source, amount_minor from settlements where trade_no = $1', [settled.trade_no]))).toEqual([{ source: 'AUTO', amount_minor: 1200n }]);
    const notice = await f.until(async () => sink.received.find((post) => post.fields.notify_type === 'settle_status_sync' && post.fields.out_trade_no === 'escrow-auto'), (post) => post !== undefined);
    expect(notice!.fields).toMatchObject({ settle_type: 'AUTO', settle_amount: '12.00' });

    // A job that runs before the deadline (the deadline is ten days away here) settles nothing and waits for the deadline.
    const waiting = await payEscrow('escrow-auto-early', '13.00');
    await f.t.query("select graphile_worker.add_job('trade.escrow.settle', json_build_object('trade_no', $1::text))", [waiting.tradeNo]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await f.tradeOf('escrow-auto-early')).toMatchObject({ settled_amount_minor: 0n });
    const [job] = await f.t.query('select run_at from graphile_worker.jobs where key = $1', [`escrow-settle:${waiting.tradeNo}`]);
    expect((job!.run_at as Date).getTime()).toBe((await f.tradeOf('escrow-auto-early')).escrow_settle_by.getTime());

    // The deadline passes and the job is lost: the sweep schedules the settlement again.
    await f.t.query("update trades set escrow_settle_by = now() - interval '1 second' where trade_no = $1", [waiting.tradeNo]);
    await f.t.query('select graphile_worker.remove_job($1)', [`escrow-settle:${waiting.tradeNo}`]);
    await f.t.query("select graphile_worker.add_job('trade.sweep', '{}'::json)");
    expect((await f.until(() => f.tradeOf('escrow-auto-early'), (trade) => trade.fully_settled)).settled_amount_minor).toBe(1300n);
  });

  it('parallel identical settle requests make one settlement', async () => {
    const paid = await payEscrow('escrow-race-same', '50.00');
    const results = await Promise.all(Array.from({ length: 10 }, () => settle('escrow-race-same', 'same', { settle_amount: '20.00' })));
    expect(results.filter((result) => result.code !== '10000')).toEqual([]);
    expect(new Set(results.map((result) => result.settleNo)).size).toBe(1);
    expect(await f.t.query('select * from settlements where trade_no = $1', [paid.tradeNo])).toHaveLength(1);
    expect(await f.tradeOf('escrow-race-same')).toMatchObject({ settled_amount_minor: 2000n });
    expect(await f.t.query("select * from journal_transactions where kind = 'SETTLEMENT' and reference = $1", [results[0]!.settleNo])).toHaveLength(1);
  });

  it('a settlement and a refund racing for the same escrowed money never both get it', async () => {
    const trades = Array.from({ length: 8 }, (_, index) => `escrow-race-${index}`);
    for (const outTradeNo of trades) await payEscrow(outTradeNo, '100.00');
    const before = await f.balances();
    // Each takes 70.00 of 100.00: whichever comes second finds only 30.00 left in escrow.
    const results = await Promise.all(trades.flatMap((outTradeNo) => [settle(outTradeNo, 'race', { settle_amount: '70.00' }), refund(outTradeNo, 'race', '70.00')]));
    let escrowLeft = 0n;
    for (const [index, outTradeNo] of trades.entries()) {
      const [settled, refunded] = [results[index * 2]!, results[index * 2 + 1]!];
      expect(refunded).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
      const trade = await f.tradeOf(outTradeNo);
      if (settled.code === '10000') {
        // The settlement came first: the refund took the 30.00 left in escrow and 40.00 from the merchant.
        expect(trade).toMatchObject({ settled_amount_minor: 7000n, escrow_refunded_minor: 3000n });
      } else {
        expect(settled.subCode).toBe('ACQ.SETTLE_AMOUNT_EXCEED');
        expect(trade).toMatchObject({ settled_amount_minor: 0n, escrow_refunded_minor: 7000n });
      }
      escrowLeft += BigInt(trade.escrow_amount_minor - trade.settled_amount_minor - trade.escrow_refunded_minor);
    }
    const after = await f.balances();
    expect(after.escrow).toBeGreaterThanOrEqual(0n);
    expect(moved(before, after).escrow).toBe(escrowLeft - 8n * 10000n);
  });

  it('admin sets the confirm period per merchant and refuses bad values', async () => {
    expect((await f.t.admin('GET', `/merchants/${f.merchantId}`)).body).toMatchObject({ escrow_confirm_seconds: longConfirmSeconds });
    for (const value of [0, -1, '10', 1.5, 31622401]) {
      expect((await f.t.admin('PATCH', `/merchants/${f.merchantId}`, { escrow_confirm_seconds: value })).status).toBe(400);
    }
    expect((await f.t.admin('PATCH', '/merchants/2088000000000000', { escrow_confirm_seconds: 60 })).status).toBe(404);
    expect((await f.t.admin('GET', `/merchants/${f.merchantId}`)).body).toMatchObject({ escrow_confirm_seconds: longConfirmSeconds });
  });

  it('keeps the ledger balanced', async () => {
    expect((await f.t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });
  });
});
