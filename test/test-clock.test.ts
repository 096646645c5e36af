import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockOffsetMs, setClockOffsetMs } from '../src/clock.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';
import { until } from './helpers/wait.js';

let t: TestInstance;
let sink: NotifySink;
beforeAll(async () => {
  // Retries an hour apart: only the test clock can bring the second attempt within the test's time.
  t = await startTestInstance({ TONGBAO_TEST_CLOCK: 'on', TONGBAO_NOTIFY_RETRY_SECONDS: '3600,3600' });
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

const tradeOf = async (outTradeNo: string) => (await t.query('select * from trades where out_trade_no = $1', [outTradeNo]))[0]!;

describe('the test clock', () => {
  it('starts at wall time and refuses moving backwards, by nothing, or without exactly one of seconds and to', async () => {
    const state = await t.admin('GET', '/test-clock');
    expect(state.status).toBe(200);
    expect(state.body.enabled).toBe(true);
    expect(Math.abs(Date.parse(state.body.now) - Date.now() - state.body.offset_seconds * 1000)).toBeLessThan(2000);
    for (const body of [{ seconds: 0 }, { seconds: -5 }, { to: '2001-01-01T00:00:00Z' }, {}, { seconds: 5, to: '2099-01-01T00:00:00Z' }, { to: 'tomorrow' }, { seconds: 1.5 }, { minutes: 3 }]) {
      const answer = await t.admin('POST', '/test-clock/advance', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.admin('GET', '/test-clock')).body.offset_seconds).toBe(state.body.offset_seconds);
  });

  it('expires an order when business time passes its deadline, without waiting for it', async () => {
    const created = await t.sdk().exec('tongbao.trade.create', {
      bizContent: { out_trade_no: 'clock-expire', total_amount: '5.00', subject: 'clock', timeout_express: '30m' },
    }, { validateSign: true });
    expect(created.code).toBe('10000');
    await t.admin('POST', '/test-clock/advance', { seconds: 29 * 60 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await tradeOf('clock-expire')).status).toBe('WAIT_BUYER_PAY');
    const advanced = await t.admin('POST', '/test-clock/advance', { seconds: 2 * 60 });
    expect(advanced.status).toBe(200);
    const closed = await until(() => tradeOf('clock-expire'), (row) => row.status === 'TRADE_CLOSED');
    expect(closed.close_reason).toBe('EXPIRED');
  });

  it('brings a notification retry scheduled an hour later forward when the clock moves an hour', async () => {
    sink.received.length = 0;
    sink.script = [{ status: 500, body: 'down' }];
    const paid = await t.sdk().exec('tongbao.trade.pay', {
      bizContent: { out_trade_no: 'clock-notify', total_amount: '6.00', subject: 'clock', channel: 'sandbox', notify_url: sink.url },
    }, { validateSign: true });
    expect(paid.code).toBe('10000');
    await sink.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sink.received).toHaveLength(1);
    await t.admin('POST', '/test-clock/advance', { seconds: 3600 });
    await sink.waitFor(2);
    const [notification] = await t.query("select n.* from notifications n join trades tr using (trade_no) where tr.out_trade_no = 'clock-notify'");
    expect(notification).toMatchObject({ status: 'SUCCESS', attempt_count: 2 });
  });

  it('keeps accepting requests signed with wall-clock timestamps after business time moved a day', async () => {
    await t.admin('POST', '/test-clock/advance', { to: new Date(Date.now() + clockOffsetMs() + 86_400_000).toISOString() });
    expect(clockOffsetMs()).toBeGreaterThan(86_400_000);
    const paid = await t.sdk().exec('tongbao.trade.pay', {
      bizContent: { out_trade_no: 'clock-after-a-day', total_amount: '7.00', subject: 'clock', channel: 'sandbox' },
    }, { validateSign: true });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    // The trade's business times follow the clock: it was paid "a day later".
    const trade = await tradeOf('clock-after-a-day');
    expect(trade.paid_at.getTime() - Date.now()).toBeGreaterThan(86_000_000);
  });

  it('keeps following advances after its listening connection is killed', async () => {
    const killed = await t.query("select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = current_database() and query = 'listen tongbao_test_clock'");
    expect(killed.length).toBeGreaterThan(0);
    // Another process advances meanwhile: the stored offset moves, and its NOTIFY may be missed.
    const before = clockOffsetMs();
    await t.query("update settings set value = (value::bigint + 60000)::text where key = 'test_clock.offset_ms'");
    await until(async () => clockOffsetMs(), (offset) => offset === before + 60_000, 5000);
    await t.query("update settings set value = $1 where key = 'test_clock.offset_ms'", [String(before + 120_000)]);
    await t.query("select pg_notify('tongbao_test_clock', $1)", [String(before + 120_000)]);
    await until(async () => clockOffsetMs(), (offset) => offset === before + 120_000, 5000);
  });

  it('is kept in the database: a restarted process resumes the same business time', async () => {
    const before = (await t.admin('GET', '/test-clock')).body.offset_seconds as number;
    setClockOffsetMs(0); // as a fresh process would start
    t = await t.restart();
    expect((await t.admin('GET', '/test-clock')).body.offset_seconds).toBe(before);
  });
});

describe('without TONGBAO_TEST_CLOCK', () => {
  it('refuses to move the clock', async () => {
    const plain = await startTestInstance();
    try {
      expect((await plain.admin('GET', '/test-clock')).body).toMatchObject({ enabled: false, offset_seconds: 0 });
      const refused = await plain.admin('POST', '/test-clock/advance', { seconds: 60 });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/TONGBAO_TEST_CLOCK=on/);
    } finally {
      await plain.stop();
    }
  });
});
