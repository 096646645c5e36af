import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';
import { until } from './helpers/wait.js';

let t: TestInstance;
let sink: NotifySink;
let merchantId: string;
beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_TEST_CLOCK: 'on' });
  sink = await startNotifySink();
  merchantId = (await t.query('select merchant_id from apps where app_id = $1', [t.demo.app_id]))[0]!.merchant_id;
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

const day = 86_400;
const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });
const tradeOf = async (outTradeNo: string) => (await t.query('select * from trades where out_trade_no = $1', [outTradeNo]))[0]!;
const advance = (seconds: number) => t.admin('POST', '/test-clock/advance', { seconds });
const pay = (outTradeNo: string, extra: Record<string, unknown> = {}) =>
  exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: '30.00', subject: 'window', channel: 'sandbox', notify_url: sink.url, ...extra });
const refund = (outTradeNo: string, requestNo: string, amount = '1.00') => exec('tongbao.trade.refund', { out_trade_no: outTradeNo, refund_amount: amount, out_request_no: requestNo });

describe('the refund window', () => {
  it('takes refunds for 90 days by default, then refuses them and finishes the trade', async () => {
    expect((await pay('window-default')).code).toBe('10000');
    const paid = await tradeOf('window-default');
    expect(paid.refund_deadline.getTime() - paid.paid_at.getTime()).toBe(90 * day * 1000);
    expect((await refund('window-default', 'r1')).code).toBe('10000');
    await advance(89 * day);
    expect((await refund('window-default', 'r2')).code).toBe('10000');
    expect((await tradeOf('window-default')).status).toBe('TRADE_SUCCESS');

    await advance(2 * day);
    const refused = await refund('window-default', 'r3');
    expect(refused).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });
    expect(refused.subMsg).toMatch(/refund window/);
    const finished = await until(() => tradeOf('window-default'), (row) => row.status === 'TRADE_FINISHED');
    expect(finished.refunded_amount_minor).toBe(200n);
    expect(await t.query("select 1 from refunds r join trades tr using (trade_no) where tr.out_trade_no = 'window-default' and out_request_no = 'r3'")).toHaveLength(0);
    const notification = (await until(async () => sink.received.find((post) => post.fields.trade_status === 'TRADE_FINISHED'), Boolean))!;
    expect(notification.fields).toMatchObject({ notify_type: 'trade_status_sync', out_trade_no: 'window-default' });
    expect(t.sdk().checkNotifySignV2(notification.fields)).toBe(true);
    expect(await exec('tongbao.trade.query', { out_trade_no: 'window-default' })).toMatchObject({ tradeStatus: 'TRADE_FINISHED' });
    expect(await exec('tongbao.trade.cancel', { out_trade_no: 'window-default' })).toMatchObject({ subCode: 'ACQ.CANCEL_NOT_ALLOWED' });
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });

  it('follows the merchant\'s own window for trades paid after it was set', async () => {
    const patched = await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: 1 });
    expect(patched).toMatchObject({ status: 200, body: { refund_window_days: 1 } });
    expect((await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: 0 })).status).toBe(400);
    expect((await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: 3651 })).status).toBe(400);
    await pay('window-short');
    await advance(day + 60);
    expect(await refund('window-short', 'late')).toMatchObject({ subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });
    await until(() => tradeOf('window-short'), (row) => row.status === 'TRADE_FINISHED');
    expect((await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: null })).body.refund_window_days).toBeNull();
  });

  it('keeps an escrow trade TRADE_SUCCESS past its window until its escrow is settled', async () => {
    await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: 1, escrow_confirm_seconds: 30 * day });
    await pay('window-escrow', { trade_type: 'ESCROW' });
    await advance(2 * day);
    expect(await refund('window-escrow', 'late')).toMatchObject({ subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a sweep has run
    expect((await tradeOf('window-escrow')).status).toBe('TRADE_SUCCESS');
    expect(await exec('tongbao.trade.settle', { out_trade_no: 'window-escrow', out_request_no: 's1' })).toMatchObject({ code: '10000' });
    await advance(60);
    await until(() => tradeOf('window-escrow'), (row) => row.status === 'TRADE_FINISHED');
    await t.admin('PATCH', `/merchants/${merchantId}`, { refund_window_days: null, escrow_confirm_seconds: null });
  });
});
