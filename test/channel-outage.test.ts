import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/ledger/index.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { sleep } from './helpers/wait.js';
import { startStripeSimulator, type StripeSimulator } from './simulators/stripe/simulator.js';

/**
 * The seeds' failure (接口管理): one channel goes slow and every payment stalls. Here one of three channels stops
 * answering altogether while payments keep coming through all of them. The others must keep their latency and
 * success rate, the dead channel's breaker must open, the router must stop choosing it, and once it answers
 * again it must get its traffic back.
 *
 * The figures are compared within this run (baseline against outage) with a generous factor, since the machine
 * is shared; they are printed for the record.
 */
let t: TestInstance;
let stripe: StripeSimulator;
let stripeB: StripeSimulator;
const halfOpenMs = 1500;
beforeAll(async () => {
  t = await startTestInstance({
    TONGBAO_BREAKER_FAILURES: '3',
    TONGBAO_BREAKER_HALF_OPEN_MS: String(halfOpenMs),
    // Compensation queries far apart, so only the payments below reach the channels.
    TONGBAO_COMPENSATION_RETRY_SECONDS: '3600',
  });
  [stripe, stripeB] = await Promise.all([startStripeSimulator(), startStripeSimulator()]);
  const config = (simulator: StripeSimulator) => ({ secretKey: simulator.secretKey, webhookSecret: 'whsec_outage_test_0123456789', apiBaseUrl: simulator.url, timeoutMs: 500 });
  expect((await t.admin('PUT', '/channels/stripe', { enabled: true, config: config(stripe) })).status).toBe(200);
  expect((await t.admin('PUT', '/channels/stripe-b', { enabled: true, adapter: 'stripe', config: config(stripeB) })).status).toBe(200);
  // `stripe` is the cheap account the router prefers; `stripe-b` the dearer standby; the sandbox the dearest.
  for (const route of [
    { channel: 'stripe', enabled: true, fee_rate_basis_points: 20, weight: 100 },
    { channel: 'stripe-b', enabled: true, fee_rate_basis_points: 60, weight: 50 },
    { channel: 'sandbox', enabled: true, fee_rate_basis_points: 300, weight: 0 },
  ]) expect((await t.admin('PUT', '/routing/routes', route)).status).toBe(200);
});
afterAll(async () => {
  await t?.stop();
  await Promise.all([stripe?.close(), stripeB?.close()]);
});

let sequence = 0;
interface Timed { readonly code: string; readonly ms: number; readonly channel: string | undefined }

async function pay(biz: Record<string, unknown>): Promise<Timed> {
  const started = performance.now();
  const answer = await t.sdk().exec('tongbao.trade.pay', {
    bizContent: { out_trade_no: `outage-${++sequence}`, total_amount: '20.00', subject: 'outage', ...biz },
  }, { validateSign: true });
  return { code: answer.code as string, ms: performance.now() - started, channel: answer.channel as string | undefined };
}

/** `count` payments through one named channel, `parallel` at a time. */
async function load(channel: string, currency: string, count: number, parallel: number, extra: Record<string, unknown> = {}): Promise<Timed[]> {
  const results: Timed[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      next += 1;
      results.push(await pay({ channel, currency, ...extra }));
    }
  }));
  return results;
}

const card = { payer_id: 'pm_card_visa' };
const median = (runs: readonly Timed[]) => [...runs.map((run) => run.ms)].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
const successRate = (runs: readonly Timed[]) => runs.filter((run) => run.code === '10000').length / runs.length;
const health = async (channel: string) => (await t.admin('GET', '/channels/health')).body.channels.find((row: { channel: string }) => row.channel === channel);

describe('one channel of three stops answering', () => {
  it('leaves the others as fast and as successful, opens its breaker, is no longer chosen, and comes back after it recovers', async () => {
    // Baseline, the same load as during the outage: the two other channels named, and routed payments (all to
    // `stripe`, the preferred one) one after another.
    await Promise.all([load('stripe-b', 'USD', 6, 2, card), load('sandbox', 'CNY', 6, 2)]); // warm-up, not measured
    const routedBefore: Timed[] = [];
    const [baselineB, baselineSandbox] = await Promise.all([
      load('stripe-b', 'USD', 24, 3, card),
      load('sandbox', 'CNY', 24, 3),
      (async () => { for (let i = 0; i < 5; i++) routedBefore.push(await pay({ currency: 'USD', ...card })); })(),
    ]);
    const baseline = { stripeB: baselineB, sandbox: baselineSandbox };
    expect(routedBefore.map((run) => [run.code, run.channel])).toEqual(Array(5).fill(['10000', 'stripe']));

    // The outage: `stripe` takes requests and never answers. The other channels carry on under the same load
    // while routed payments arrive one after another.
    stripe.setHangAll(true);
    const routedDuring: Timed[] = [];
    const [outageB, outageSandbox] = await Promise.all([
      load('stripe-b', 'USD', 24, 3, card),
      load('sandbox', 'CNY', 24, 3),
      (async () => { for (let i = 0; i < 8; i++) routedDuring.push(await pay({ currency: 'USD', ...card })); })(),
    ]);

    // The first three routed payments went to `stripe` and timed out: their result is unknown (never failed,
    // since money may have moved), and they are left to compensation. Then the breaker opened, and the router
    // sent every later one to the standby.
    expect(routedDuring.slice(0, 3).map((run) => run.code)).toEqual(['20000', '20000', '20000']);
    expect(routedDuring.slice(3).map((run) => [run.code, run.channel])).toEqual(Array(5).fill(['10000', 'stripe-b']));
    expect(await health('stripe')).toMatchObject({ state: 'open' });
    const [stuck] = await t.query<{ count: string }>("select count(*)::text as count from pay_attempts where channel = 'stripe' and created_at > now() - interval '1 minute' and status = 'PROCESSING'");
    expect(stuck!.count).toBe('3');
    const ranking = await t.sdk().exec('tongbao.trade.channels.query', { bizContent: { total_amount: '20.00', currency: 'USD' } }, { validateSign: true });
    expect(ranking.channels.find((row: { channel: string }) => row.channel === 'stripe')).toMatchObject({ eligible: false, reasons: [expect.stringMatching(/out of service/)] });

    // The healthy channels did not notice: every payment succeeded, and their median stayed within a generous
    // factor of the baseline (a shared slow machine, so 3x plus 100 ms of slack).
    const figures = {
      stripeB: { baseline: median(baseline.stripeB), outage: median(outageB), success: successRate(outageB) },
      sandbox: { baseline: median(baseline.sandbox), outage: median(outageSandbox), success: successRate(outageSandbox) },
    };
    console.info('channel outage figures (median ms, success rate during the outage):', JSON.stringify(figures));
    expect(successRate(baseline.stripeB)).toBe(1);
    expect(successRate(baseline.sandbox)).toBe(1);
    for (const channel of Object.values(figures)) {
      expect(channel.success).toBe(1);
      expect(channel.outage).toBeLessThan(channel.baseline * 3 + 100);
    }

    // Recovery: once `stripe` answers again and the breaker lets a trial call through, the router prefers it
    // again (it is still the cheapest), the trial succeeds and the breaker closes.
    stripe.setHangAll(false);
    await sleep(halfOpenMs + 100);
    const back = await pay({ currency: 'USD', ...card });
    expect([back.code, back.channel]).toEqual(['10000', 'stripe']);
    expect(await health('stripe')).toMatchObject({ state: 'closed' });
    expect((await checkLedger(t.instance.context.pool)).ok).toBe(true);
  });
});
