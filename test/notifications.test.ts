import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';

let t: TestInstance;
let sink: NotifySink;
beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_NOTIFY_RETRY_SECONDS: '0.3,0.3,0.3,0.3,0.3', TONGBAO_NOTIFY_TIMEOUT_MS: '1000' });
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

async function pay(outTradeNo: string, notifyUrl = sink.url) {
  const paid = await t.sdk().exec('tongbao.trade.pay', {
    bizContent: { out_trade_no: outTradeNo, total_amount: '12.34', subject: 'notify test', channel: 'sandbox', notify_url: notifyUrl },
  }, { validateSign: true });
  expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
  return paid;
}

async function attemptsOf(outTradeNo: string) {
  return t.query(
    `select a.* from notification_attempts a join notifications n using (notify_id) join trades tr using (trade_no)
     where tr.out_trade_no = $1 order by a.attempt_number`, [outTradeNo]);
}

describe('merchant notifications', () => {
  it('are signed so that alipay-sdk checkNotifySignV2 accepts them, and carry the Alipay fields', async () => {
    sink.received.length = 0;
    const paid = await pay('notify-sign-1');
    expect(paid.tradeStatus).toBe('TRADE_SUCCESS');
    const [post] = await sink.waitFor(1);
    expect(t.sdk().checkNotifySignV2(post!.fields)).toBe(true);
    expect(post!.fields).toMatchObject({
      notify_type: 'trade_status_sync', app_id: t.demo.app_id, trade_no: paid.tradeNo, out_trade_no: 'notify-sign-1',
      trade_status: 'TRADE_SUCCESS', total_amount: '12.34', sign_type: 'RSA2',
    });
    expect(post!.fields.notify_id).toMatch(/^[0-9a-f]{32}$/);
    expect(post!.fields.gmt_payment).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // A tampered notification must not verify.
    expect(t.sdk().checkNotifySignV2({ ...post!.fields, total_amount: '1234.00' })).toBe(false);
  });

  it('retries an endpoint that fails three times, then stops after the one success: four attempts', async () => {
    sink.received.length = 0;
    sink.script = [{ status: 500, body: 'error' }, { status: 200, body: 'fail' }, 'hang'];
    await pay('notify-retry-1');
    await sink.waitFor(4, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // would-be fifth attempt has time to show up
    expect(sink.received).toHaveLength(4);
    const attempts = await attemptsOf('notify-retry-1');
    expect(attempts.map((attempt) => attempt.http_status)).toEqual([500, 200, null, 200]);
    expect(attempts[2]!.error).toBeTruthy();
    expect(attempts[1]!.response_excerpt).toBe('fail');
    const [notification] = await t.query("select n.* from notifications n join trades tr using (trade_no) where tr.out_trade_no = 'notify-retry-1'");
    expect(notification).toMatchObject({ status: 'SUCCESS', attempt_count: 4 });
  });

  it('expires after the schedule is used up, and operators can list and resend it', async () => {
    sink.received.length = 0;
    sink.script = Array.from({ length: 6 }, () => ({ status: 503, body: 'down' }));
    await pay('notify-expire-1');
    await sink.waitFor(6, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sink.received).toHaveLength(6); // the first try and five retries
    const list = await t.admin('GET', '/notifications?status=EXPIRED');
    const expired = list.body.notifications.find((row: any) => row.params.out_trade_no === 'notify-expire-1');
    expect(expired).toMatchObject({ status: 'EXPIRED', attempt_count: 6 });
    const detail = await t.admin('GET', `/notifications/${expired.notify_id}`);
    expect(detail.body.attempts).toHaveLength(6);
    expect(detail.body.attempts[0]).toMatchObject({ attempt_number: 1, http_status: 503, response_excerpt: 'down' });

    const resent = await t.admin('POST', `/notifications/${expired.notify_id}/resend`);
    expect(resent.status).toBe(202);
    await sink.waitFor(7);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await t.admin('GET', `/notifications/${expired.notify_id}`);
    expect(after.body).toMatchObject({ status: 'SUCCESS', attempt_count: 7 });
    expect((await t.admin('POST', '/notifications/nope/resend')).status).toBe(404);
  });

  it('loses nothing when the process restarts between attempts', async () => {
    sink.received.length = 0;
    sink.script = [{ status: 500, body: 'down' }];
    await pay('notify-restart-1');
    await sink.waitFor(1);
    // Stop before the retry is due, with a long first retry so it cannot fire before the stop.
    t = await t.restart({ TONGBAO_NOTIFY_RETRY_SECONDS: '2,0.3,0.3', TONGBAO_NOTIFY_TIMEOUT_MS: '1000' });
    await sink.waitFor(2, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [notification] = await t.query("select n.* from notifications n join trades tr using (trade_no) where tr.out_trade_no = 'notify-restart-1'");
    expect(notification).toMatchObject({ status: 'SUCCESS', attempt_count: 2 });
  });

  it('sends nothing when neither the request nor the app has a notify_url', async () => {
    const paid = await t.sdk().exec('tongbao.trade.pay', {
      bizContent: { out_trade_no: 'notify-none-1', total_amount: '1.00', subject: 'silent', channel: 'sandbox' },
    }, { validateSign: true });
    expect(paid.tradeStatus).toBe('TRADE_SUCCESS');
    expect(await t.query('select * from notifications where trade_no = $1', [paid.tradeNo])).toHaveLength(0);
  });
});
