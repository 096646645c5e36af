import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';
import { startStripeSimulator, type StripeSimulator } from './simulators/stripe/simulator.js';

/**
 * The router (支付路由) through the gateway and the admin API: three channels take USD — the sandbox bank and
 * two Stripe accounts (`stripe`, and `stripe-b` built with the same adapter) — and the operator's routes decide
 * which one a payment without a named channel goes to.
 */
let t: TestInstance;
let stripe: StripeSimulator;
let stripeB: StripeSimulator;
let pool: import('pg').Pool;
let demoMerchant: string;
beforeAll(async () => {
  // One call at a time per channel and nothing queued, so a busy channel refuses at once (the failover case).
  t = await startTestInstance({ TONGBAO_CHANNEL_MAX_CONCURRENT: '1', TONGBAO_CHANNEL_MAX_QUEUED: '0', TONGBAO_COMPENSATION_RETRY_SECONDS: '3600' });
  [stripe, stripeB] = await Promise.all([startStripeSimulator(), startStripeSimulator()]);
  const config = (simulator: StripeSimulator) => ({ secretKey: simulator.secretKey, webhookSecret: 'whsec_routing_test_0123456789', apiBaseUrl: simulator.url, timeoutMs: 1500 });
  expect((await t.admin('PUT', '/channels/stripe', { enabled: true, config: config(stripe) })).status).toBe(200);
  expect((await t.admin('PUT', '/channels/stripe-b', { enabled: true, adapter: 'stripe', config: config(stripeB) })).status).toBe(200);
  pool = t.instance.context.pool;
  demoMerchant = (await t.query<{ merchant_id: string }>('select merchant_id from apps where app_id = $1', [t.demo.app_id]))[0]!.merchant_id;
});
afterAll(async () => {
  await t?.stop();
  await Promise.all([stripe?.close(), stripeB?.close()]);
});

let sequence = 0;
const orderNo = (label: string) => `route-${label}-${++sequence}`;
const pay = (biz: Record<string, unknown>, sdk = t.sdk()) => sdk.exec('tongbao.trade.pay', {
  bizContent: { out_trade_no: orderNo('pay'), total_amount: '100.00', currency: 'USD', subject: 'routing', payer_id: 'pm_card_visa', ...biz },
}, { validateSign: true });
const channelsFor = (biz: Record<string, unknown>, sdk = t.sdk()) => sdk.exec('tongbao.trade.channels.query', { bizContent: biz }, { validateSign: true });
const route = (body: Record<string, unknown>) => t.admin('PUT', '/routing/routes', body);
const attemptsOf = (outTradeNo: string) => t.query<{ channel: string; status: string; failure_code: string | null; fee_minor: string | null }>(
  'select a.channel, a.status, a.failure_code, a.fee_minor::text from pay_attempts a join trades t using (trade_no) where t.out_trade_no = $1 order by a.created_at, a.attempt_no', [outTradeNo],
);

describe('routes as data through the admin API', () => {
  it('refuses routes that name nothing real, and stores nothing', async () => {
    const merchant = demoMerchant;
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ channel: 'paypal', enabled: true }, /no channel paypal/],
      [{ channel: 'stripe', merchant_id: 'M-nobody', enabled: true }, /no merchant/],
      [{ channel: 'stripe', app_id: t.demo.app_id, enabled: true }, /needs the merchant_id/],
      [{ channel: 'stripe', merchant_id: merchant, app_id: 'nope', enabled: true }, /no app nope/],
      [{ channel: 'stripe', enabled: true, products: ['ALIPAY_QR'] }, /has no product ALIPAY_QR/],
      [{ channel: 'stripe', enabled: true, daily_limit_minor: '0' }, /above 0/],
    ];
    for (const [body, message] of refusals) {
      const answer = await route(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.message).toMatch(message);
    }
    for (const body of [
      { channel: 'stripe', enabled: true, fee_rate_basis_points: -1 },
      { channel: 'stripe', enabled: true, fee_rate_basis_points: 10001 },
      { channel: 'stripe', enabled: true, fee_fixed_minor: '1.5' },
      { channel: 'stripe', enabled: true, single_limit_minor: '-5' },
      { channel: 'stripe', enabled: true, weight: 101 },
      { channel: 'stripe', enabled: 'yes' },
      { channel: 'stripe', enabled: true, surprise: 1 },
    ]) expect((await route(body)).status, JSON.stringify(body)).toBe(400);
    expect(await t.query('select 1 from channel_routes')).toHaveLength(0);
    expect((await t.admin('PUT', '/routing/weights', { fee: 0, success_rate: 0, latency: 0, weight: 0, preference: 0 })).status).toBe(400);
    expect((await t.admin('DELETE', '/routing/routes/999')).status).toBe(404);
  });

  it('stores one row per scope, replaces it on a second PUT, and deletes it', async () => {
    const first = await route({ channel: 'sandbox', enabled: true, fee_rate_basis_points: 100, weight: 0 });
    expect(first).toMatchObject({ status: 200, body: { channel: 'sandbox', merchant_id: null, app_id: null, fee_rate_basis_points: 100, weight: 0, daily_limit_minor: null } });
    const again = await route({ channel: 'sandbox', enabled: true, fee_rate_basis_points: 120, weight: 0 });
    expect(again.body.route_id).toBe(first.body.route_id);
    expect((await route({ channel: 'stripe', enabled: true, fee_rate_basis_points: 30, weight: 100 })).status).toBe(200);
    expect((await route({ channel: 'stripe-b', enabled: true, fee_rate_basis_points: 60, fee_fixed_minor: '5', weight: 20 })).status).toBe(200);
    const temporary = await route({ channel: 'stripe-b', merchant_id: demoMerchant, enabled: false });
    expect((await t.admin('GET', '/routing/routes?channel=stripe-b')).body.routes).toHaveLength(2);
    expect((await t.admin('DELETE', `/routing/routes/${temporary.body.route_id}`)).status).toBe(204);
    expect((await t.admin('GET', '/routing/routes')).body.routes.map((row: { channel: string }) => row.channel)).toEqual(['sandbox', 'stripe', 'stripe-b']);
    expect((await t.admin('GET', '/routing/weights')).body).toEqual({ fee: 30, success_rate: 30, latency: 15, weight: 15, preference: 10 });
  });
});

describe('payments without a named channel', () => {
  it('go to the best channel, and channels.query explains the ranking', async () => {
    const ranking = await channelsFor({ total_amount: '100.00', currency: 'USD' });
    expect(ranking.code).toBe('10000');
    expect(ranking.channels.map((row: { channel: string }) => row.channel)).toEqual(['stripe', 'stripe-b', 'sandbox']);
    expect(ranking.channels[0]).toMatchObject({ eligible: true, rank: 1, fee: '0.30' });
    expect(ranking.channels[1]).toMatchObject({ eligible: true, rank: 2, fee: '0.65' });
    expect(ranking.channels[0].reasons.join(' ')).toMatch(/fee 30 minor units.*success rate.*operator weight 100/);

    const outTradeNo = orderNo('best');
    expect(await pay({ out_trade_no: outTradeNo })).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await attemptsOf(outTradeNo)).toEqual([{ channel: 'stripe', status: 'SUCCEEDED', failure_code: null, fee_minor: '30' }]);

    // A product no channel has: nobody is eligible, and the refusal lists why, with nothing written.
    const nobody = await channelsFor({ total_amount: '100.00', currency: 'USD', product: 'NOBODY_HAS_IT' });
    expect(nobody.channels.every((row: { eligible: boolean }) => !row.eligible)).toBe(true);
    const unsold = orderNo('unsold');
    const refused = await pay({ out_trade_no: unsold, product: 'NOBODY_HAS_IT' });
    expect(refused).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
    expect(refused.subMsg).toMatch(/no channel can take this payment: .*has no product NOBODY_HAS_IT/);
    expect(await t.query('select 1 from trades where out_trade_no = $1', [unsold])).toHaveLength(0);
    // Either an order or an amount, not both or neither.
    expect(await channelsFor({ currency: 'USD' })).toMatchObject({ subCode: 'isv.missing-parameter' });
  });

  it('favour the payer\'s preferred channel, and never offer what the route switched off for this app', async () => {
    const ranked = await channelsFor({ total_amount: '100.00', currency: 'USD', preferred_channel: 'stripe-b' });
    expect(ranked.channels.find((row: { channel: string }) => row.channel === 'stripe-b').reasons.join(' ')).toMatch(/preferred/);

    const off = await route({ channel: 'stripe', merchant_id: demoMerchant, app_id: t.demo.app_id, enabled: false });
    try {
      const outTradeNo = orderNo('off');
      expect(await pay({ out_trade_no: outTradeNo })).toMatchObject({ code: '10000' });
      expect((await attemptsOf(outTradeNo)).map((row) => row.channel)).toEqual(['stripe-b']);
      expect(await pay({ out_trade_no: orderNo('named-off'), channel: 'stripe' })).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED', subMsg: expect.stringMatching(/switched off/) });
    } finally {
      await t.admin('DELETE', `/routing/routes/${off.body.route_id}`);
    }
  });

  it('respect single and daily limits: the router skips a channel over them, a named one is refused, parallel payments cannot pass a daily limit together', async () => {
    const limited = await route({ channel: 'stripe', merchant_id: demoMerchant, enabled: true, fee_rate_basis_points: 30, weight: 100, single_limit_minor: '5000' });
    try {
      const large = orderNo('large');
      expect(await pay({ out_trade_no: large, total_amount: '60.00' })).toMatchObject({ code: '10000' });
      expect((await attemptsOf(large)).map((row) => row.channel)).toEqual(['stripe-b']);
      const named = await pay({ out_trade_no: orderNo('large-named'), total_amount: '60.00', channel: 'stripe' });
      expect(named).toMatchObject({ subCode: 'ACQ.CHANNEL_LIMIT_EXCEEDED', subMsg: expect.stringMatching(/single limit 5000/) });

      // The daily limit counts this merchant's attempts through the channel today that did not fail.
      const usedToday = BigInt((await t.query<{ total: string }>(
        `select coalesce(sum(amount_minor), 0)::text as total from pay_attempts where channel = 'stripe-b' and currency = 'USD' and status <> 'FAILED'`,
      ))[0]!.total);
      await route({ channel: 'stripe-b', merchant_id: demoMerchant, enabled: true, fee_rate_basis_points: 60, fee_fixed_minor: '5', weight: 20, daily_limit_minor: String(usedToday + 25_000n) });
      const racers = Array.from({ length: 6 }, () => orderNo('daily'));
      const answers = await Promise.all(racers.map((outTradeNo) => pay({ out_trade_no: outTradeNo, total_amount: '100.00', channel: 'stripe-b' })));
      const accepted = answers.filter((answer) => answer.code === '10000');
      // Room for two payments of 100.00; the one call at a time per channel may refuse some as busy as well.
      expect(accepted.length).toBeLessThanOrEqual(2);
      for (const answer of answers.filter((row) => row.code !== '10000')) expect(['ACQ.CHANNEL_LIMIT_EXCEEDED', 'ACQ.CHANNEL_UNAVAILABLE']).toContain(answer.subCode);
      const [after] = await t.query<{ total: string }>(
        `select coalesce(sum(amount_minor), 0)::text as total from pay_attempts where channel = 'stripe-b' and currency = 'USD' and status <> 'FAILED'`,
      );
      expect(BigInt(after!.total)).toBeLessThanOrEqual(usedToday + 25_000n);
      // Refused before anything was written: no trade for a payment over the limit.
      const overLimit = answers.map((answer, index) => [answer, racers[index]!] as const).filter(([answer]) => answer.subCode === 'ACQ.CHANNEL_LIMIT_EXCEEDED');
      for (const [, outTradeNo] of overLimit) expect(await attemptsOf(outTradeNo)).toEqual([]);
    } finally {
      await route({ channel: 'stripe-b', merchant_id: demoMerchant, enabled: true, fee_rate_basis_points: 60, fee_fixed_minor: '5', weight: 20 });
      await t.admin('DELETE', `/routing/routes/${limited.body.route_id}`);
    }
  });

  it('fail over to the next channel, as a new attempt, when the first refuses without charging', async () => {
    // The only slot of `stripe` is taken by a payment its simulator never answers.
    stripe.hangNext({ method: 'POST', path: '/v1/payment_intents', count: 1 });
    const stuck = pay({ out_trade_no: orderNo('stuck'), channel: 'stripe' });
    await until(async () => (await t.admin('GET', '/channels/health')).body.channels.find((row: { channel: string }) => row.channel === 'stripe'), (row) => row.in_flight === 1, 5000);

    const outTradeNo = orderNo('failover');
    const answer = await pay({ out_trade_no: outTradeNo });
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await attemptsOf(outTradeNo)).toEqual([
      { channel: 'stripe', status: 'FAILED', failure_code: 'CHANNEL_UNAVAILABLE', fee_minor: '30' },
      { channel: 'stripe-b', status: 'SUCCEEDED', failure_code: null, fee_minor: '65' },
    ]);
    // The hung one is unknown, not failed: it is never failed over, since money may have moved.
    expect((await stuck).code).toBe('20000');
    // A named channel never fails over.
    stripe.hangNext({ method: 'POST', path: '/v1/payment_intents', count: 1 });
    const stuckAgain = pay({ out_trade_no: orderNo('stuck'), channel: 'stripe' });
    await until(async () => (await t.admin('GET', '/channels/health')).body.channels.find((row: { channel: string }) => row.channel === 'stripe'), (row) => row.in_flight === 1, 5000);
    const named = orderNo('named-busy');
    expect(await pay({ out_trade_no: named, channel: 'stripe' })).toMatchObject({ subCode: 'ACQ.CHANNEL_UNAVAILABLE' });
    expect((await attemptsOf(named)).map((row) => row.channel)).toEqual(['stripe']);
    await stuckAgain;
  });
});

describe("a merchant's own channel account", () => {
  it('serves only that merchant, and never escrow', async () => {
    const other = await t.admin('POST', '/merchants', { name: 'own account merchant' });
    const otherApp = await t.admin('POST', '/apps', { merchant_id: other.body.merchant_id, name: 'own account app' });
    const otherSdk = t.sdk({ appId: otherApp.body.app_id, privateKey: otherApp.body.app_private_key });
    const own = await startStripeSimulator();
    try {
      const saved = await t.admin('PUT', '/channels/stripe-own', {
        enabled: true, adapter: 'stripe', merchant_id: other.body.merchant_id,
        config: { secretKey: own.secretKey, webhookSecret: 'whsec_own_account_0123456789', apiBaseUrl: own.url },
      });
      expect(saved).toMatchObject({ status: 200, body: { channel: 'stripe-own', adapter: 'stripe', merchant_id: other.body.merchant_id, in_service: true } });
      // Its adapter and owner are fixed once stored.
      expect((await t.admin('PUT', '/channels/stripe-own', { enabled: true, adapter: 'wechat', config: {} })).status).toBe(400);

      // The demo merchant cannot see or name it.
      expect((await channelsFor({ total_amount: '10.00', currency: 'USD' })).channels.map((row: { channel: string }) => row.channel)).not.toContain('stripe-own');
      expect(await pay({ out_trade_no: orderNo('foreign'), channel: 'stripe-own' })).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });

      // Its owner pays through it by name; its escrow trades are never offered it.
      const mine = orderNo('own');
      expect(await pay({ out_trade_no: mine, channel: 'stripe-own' }, otherSdk)).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
      const escrow = await channelsFor({ total_amount: '10.00', currency: 'USD', trade_type: 'ESCROW' }, otherSdk);
      expect(escrow.channels.find((row: { channel: string }) => row.channel === 'stripe-own')).toMatchObject({ eligible: false, reasons: [expect.stringMatching(/escrow/)] });
      expect(await pay({ out_trade_no: orderNo('own-escrow'), channel: 'stripe-own', trade_type: 'ESCROW' }, otherSdk)).toMatchObject({ subCode: 'ACQ.CHANNEL_NOT_SUPPORTED' });
      // Its clearing account is its own, so it reconciles apart from the platform's Stripe account.
      expect(await t.query("select 1 from ledger_accounts where code = 'channel:stripe-own:clearing:USD'")).toHaveLength(1);
    } finally {
      await own.close();
    }
    expect((await checkLedger(pool)).ok).toBe(true);
  });
});
