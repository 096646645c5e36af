import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../src/runtime.js';
import { startSibling, startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';
import { startStripeSimulator, type StripeSimulator } from './simulators/stripe/simulator.js';

let t: TestInstance;
let stripe: StripeSimulator;
let sibling: Instance | undefined;
const webhookSecret = 'whsec_channel_config_test_0123456789';
beforeAll(async () => {
  t = await startTestInstance();
  stripe = await startStripeSimulator();
});
afterAll(async () => {
  await sibling?.stop();
  await t?.stop();
  await stripe?.close();
});

const stripeConfig = () => ({ secretKey: stripe.secretKey, webhookSecret, apiBaseUrl: stripe.url });
const pay = (outTradeNo: string) => t.sdk().exec('tongbao.trade.pay', {
  bizContent: { out_trade_no: outTradeNo, total_amount: '25.00', currency: 'USD', subject: 'config', channel: 'stripe', payer_id: 'pm_card_visa' },
}, { validateSign: true });
const stripeEntry = async () => (await t.admin('GET', '/channels')).body.channels.find((row: { channel: string }) => row.channel === 'stripe');

describe('channel configuration through the admin API', () => {
  it('lists the sandbox in service and the real channels as configurable, none configured yet', async () => {
    const listed = await t.admin('GET', '/channels');
    expect(listed.status).toBe(200);
    const byName = Object.fromEntries(listed.body.channels.map((row: { channel: string }) => [row.channel, row]));
    expect(Object.keys(byName).sort()).toEqual(['alipay', 'sandbox', 'stripe', 'unionpay', 'wechat']);
    expect(byName.sandbox).toMatchObject({ in_service: true, configurable: false, enabled: true });
    expect(byName.stripe).toMatchObject({ in_service: false, configurable: true, enabled: false, updated_at: null, capabilities: null });
    expect(await pay('config-before')).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
  });

  it('refuses a configuration that does not build, naming the field but never a secret, and stores nothing', async () => {
    const missing = await t.admin('PUT', '/channels/stripe', { enabled: true, config: { webhookSecret } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/secretKey/);
    const badUrl = await t.admin('PUT', '/channels/stripe', { enabled: true, config: { ...stripeConfig(), apiBaseUrl: 'not a url' } });
    expect(badUrl.status).toBe(400);
    expect(JSON.stringify(badUrl.body)).not.toContain(stripe.secretKey);
    expect((await t.admin('PUT', '/channels/sandbox', { enabled: true, config: {} })).status).toBe(404);
    expect((await t.admin('PUT', '/channels/paypal', { enabled: true, config: {} })).status).toBe(404);
    expect((await t.admin('PUT', '/channels/stripe', { enabled: true })).status).toBe(400);
    expect((await t.admin('PUT', '/channels/stripe', { enabled: 'yes', config: stripeConfig() })).status).toBe(400);
    expect(await t.query("select 1 from channel_configs where channel = 'stripe'")).toHaveLength(0);
  });

  it('puts a channel in service at once, sealed at rest, and every process follows', async () => {
    sibling = await startSibling(t, 'api');
    const saved = await t.admin('PUT', '/channels/stripe', { enabled: true, config: stripeConfig() });
    expect(saved).toMatchObject({ status: 200, body: { channel: 'stripe', enabled: true, in_service: true } });
    expect(JSON.stringify(saved.body)).not.toContain(stripe.secretKey);
    const [row] = await t.query("select config_sealed from channel_configs where channel = 'stripe'");
    expect(row!.config_sealed).not.toContain(stripe.secretKey);
    expect(row!.config_sealed).not.toContain(webhookSecret);
    expect(await stripeEntry()).toMatchObject({ in_service: true, enabled: true, capabilities: { products: ['STRIPE_CARD'], preauth: true } });
    expect(await pay('config-on')).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', channel: 'stripe' });
    await until(async () => sibling!.context.channels.get('stripe') !== undefined, Boolean, 5000);
  });

  it('takes a channel out of service when disabled, and keeps the stored state across a restart', async () => {
    expect((await t.admin('PUT', '/channels/stripe', { enabled: false, config: stripeConfig() })).body).toMatchObject({ enabled: false, in_service: false });
    expect(await pay('config-off')).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
    await until(async () => sibling!.context.channels.get('stripe') === undefined, Boolean, 5000);
    await t.admin('PUT', '/channels/stripe', { enabled: true, config: stripeConfig() });
    await sibling?.stop();
    sibling = undefined;
    t = await t.restart();
    expect(await stripeEntry()).toMatchObject({ in_service: true, enabled: true });
    expect(await pay('config-after-restart')).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
  });
});
