/**
 * Tongbao's one guard against replayed channel callbacks (src/trade/callbacks.ts, table callback_receipts):
 * adapters name a verified callback by a replay key, the route refuses a key already spent by any Tongbao
 * process, and spends it only once the callback's outcome is stored, so a callback whose processing failed is
 * accepted when the channel sends it again. Genuine callbacks about nothing Tongbao does are acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../src/runtime.js';
import { tradeJobHandlers } from '../src/trade/index.js';
import { startChannelFleet, stripeWebhookSecret, type ChannelFleet } from './helpers/channel-fleet.js';
import { startSibling, startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';
import { stripeSignatureHeader } from './simulators/stripe/webhooks.js';

let t: TestInstance;
let fleet: ChannelFleet;
let sibling: Instance;
beforeAll(async () => {
  t = await startTestInstance();
  fleet = await startChannelFleet(t);
  sibling = await startSibling(t, 'api');
  await until(async () => sibling.context.channels.get('alipay') !== undefined && sibling.context.channels.get('stripe') !== undefined, Boolean, 5000);
}, 60_000);
afterAll(async () => {
  await sibling?.stop();
  await fleet?.close();
  await t?.stop();
});

const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });

/** An Alipay QR payment Tongbao started, which the payer then paid at Alipay without Alipay notifying anyone yet. */
async function paidAtAlipay(outTradeNo: string): Promise<{ attemptNo: string; tradeNo: string }> {
  const answer = await exec('tongbao.trade.pay', { out_trade_no: outTradeNo, total_amount: '12.00', subject: 'callbacks', channel: 'alipay' });
  expect(answer).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY' });
  fleet.alipay.books.pay(answer.attemptNo);
  return { attemptNo: answer.attemptNo, tradeNo: answer.tradeNo };
}

/** The trade notification Alipay would send now, signed, under a notify_id of the test's choosing. */
function alipayNotification(attemptNo: string, notifyId: string): string {
  return new URLSearchParams(fleet.alipay.signNotification(fleet.alipay.tradeNotificationContent(attemptNo), notifyId)).toString();
}

async function post(baseUrl: string, channel: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${baseUrl}/channels/${channel}/notify`, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}
const postAlipay = (baseUrl: string, body: string) => post(baseUrl, 'alipay', body, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });

const tradeOf = async (tradeNo: string) => (await t.query('select status from trades where trade_no = $1', [tradeNo]))[0]!.status as string;
const postingsOf = async (attemptNo: string) => (await t.query("select 1 from journal_transactions where kind = 'PAYMENT' and reference = $1", [attemptNo])).length;
const receiptsOf = (replayKey: string) => t.query("select channel, replay_key from callback_receipts where channel = 'alipay' and replay_key = $1", [replayKey]);

describe('channel callbacks', () => {
  it('applies a callback once, and refuses its replay sent to another Tongbao process', async () => {
    const { attemptNo, tradeNo } = await paidAtAlipay('cb-replay');
    const body = alipayNotification(attemptNo, 'cb-replay-notify-1');
    expect(await postAlipay(t.url, body)).toEqual({ status: 200, text: 'success' });
    expect(await tradeOf(tradeNo)).toBe('TRADE_SUCCESS');
    expect(await receiptsOf('notify_id:cb-replay-notify-1')).toHaveLength(1);

    const notificationsBefore = await t.query('select notify_id from notifications where trade_no = $1', [tradeNo]);
    const eventsBefore = await t.query('select event_id from events');
    // The other process never saw this callback in memory; the receipt in PostgreSQL is what refuses it.
    expect(await postAlipay(sibling.url!, body)).toEqual({ status: 200, text: 'fail' });
    expect(await postAlipay(t.url, body)).toEqual({ status: 200, text: 'fail' });
    expect(await postingsOf(attemptNo)).toBe(1);
    expect(await t.query('select notify_id from notifications where trade_no = $1', [tradeNo])).toEqual(notificationsBefore);
    expect(await t.query('select event_id from events')).toEqual(eventsBefore);
  });

  it('accepts the retry of a callback whose first processing failed, and spends it only then', async () => {
    const { attemptNo, tradeNo } = await paidAtAlipay('cb-retry');
    // Tongbao's database refuses the change this once, as an outage would.
    await t.query(`create function cb_refuse_payment() returns trigger language plpgsql as $$
      begin raise exception 'database unavailable'; end $$`);
    await t.query("create trigger cb_refuse_payment before update on trades for each row when (new.out_trade_no = 'cb-retry') execute function cb_refuse_payment()");
    const body = alipayNotification(attemptNo, 'cb-retry-notify-1');
    try {
      const failed = await postAlipay(t.url, body);
      expect(failed.status).toBe(500);
      expect(failed.text).not.toBe('success');
    } finally {
      await t.query('drop trigger cb_refuse_payment on trades');
      await t.query('drop function cb_refuse_payment()');
    }
    expect(await tradeOf(tradeNo)).toBe('WAIT_BUYER_PAY');
    expect(await receiptsOf('notify_id:cb-retry-notify-1')).toHaveLength(0);

    // Alipay retries under the same notify_id until it reads "success".
    expect(await postAlipay(sibling.url!, body)).toEqual({ status: 200, text: 'success' });
    expect(await tradeOf(tradeNo)).toBe('TRADE_SUCCESS');
    expect(await postingsOf(attemptNo)).toBe(1);
    expect(await receiptsOf('notify_id:cb-retry-notify-1')).toHaveLength(1);
    expect(await postAlipay(t.url, body)).toEqual({ status: 200, text: 'fail' });
  });

  it('acknowledges a genuine event Tongbao does not act on, and changes nothing', async () => {
    const eventsBefore = await t.query('select event_id from events');
    const payload = JSON.stringify({ id: 'evt_cb_ignored_1', object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_1', object: 'customer' } } });
    const headers = { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(payload, stripeWebhookSecret, Math.floor(Date.now() / 1000)) };
    expect(await post(t.url, 'stripe', payload, headers)).toEqual({ status: 200, text: '{"received":true}' });
    expect(await t.query('select event_id from events')).toEqual(eventsBefore);
    // The same event badly signed is still refused.
    expect((await post(t.url, 'stripe', payload, { ...headers, 'stripe-signature': stripeSignatureHeader(payload, 'whsec_someone_else', Math.floor(Date.now() / 1000)) })).status).toBe(400);

    // An endpoint subscribed to every event gets charge.refunded with a refund; Stripe is told it arrived.
    fleet.stripe.addWebhookEndpoint(`${t.url}/channels/stripe/notify`, stripeWebhookSecret, ['*']);
    const paid = await exec('tongbao.trade.pay', {
      out_trade_no: 'cb-ignored', total_amount: '9.00', subject: 'callbacks', channel: 'stripe', payer_type: 'stripe_payment_method', payer_id: 'pm_card_visa',
    });
    expect(paid).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await exec('tongbao.trade.refund', { out_trade_no: 'cb-ignored', refund_amount: '9.00', out_request_no: 'all' })).toMatchObject({ refundStatus: 'REFUND_SUCCESS' });
    const refunded = await until(async () => fleet.stripe.deliveries.filter((delivery) => delivery.type === 'charge.refunded'), (found) => found.length > 0);
    expect(refunded.map((delivery) => delivery.statusCode)).toEqual([200]);
  });

  it('forgets receipts past their window when the sweep runs', async () => {
    await t.query("insert into callback_receipts (channel, replay_key, expires_at) values ('alipay', 'notify_id:cb-old', now() - interval '1 second'), ('alipay', 'notify_id:cb-young', now() + interval '1 hour')");
    await tradeJobHandlers(t.instance.context)['trade.sweep']({});
    expect(await receiptsOf('notify_id:cb-old')).toHaveLength(0);
    expect(await receiptsOf('notify_id:cb-young')).toHaveLength(1);
  });
});
