/**
 * The WeChat Pay adapter when things go wrong: hangs, 5xx, answers that are unsigned or signed by someone
 * else, a merchant key WeChat does not know, forged, replayed and stale callbacks, a tampered bill, and one
 * adapter's connection pool filling up without touching another's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelPayRequest } from '../../src/channels/types.js';
import { createWechatAdapter, parseWechatConfig, type WechatAdapter, type WechatConfigInput } from '../../src/channels/wechat/index.js';
import { beijingDateOf } from '../../src/channels/wechat/protocol.js';
import { CallbackReceiver, payRequestFor, refundRequestFor, waitFor } from '../simulators/wechat/harness.js';
import { adapterConfigInput, generateApiV3Key, generateRsaPair, generateWechatCredentials } from '../simulators/wechat/keys.js';
import { startWechatSimulator, type WechatSimulator } from '../simulators/wechat/simulator.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

const credentials = generateWechatCredentials();
const timeoutMs = 300;

describe('wechat channel when things go wrong', () => {
  let simulator: WechatSimulator;
  let adapter: WechatAdapter;
  const extraAdapters: WechatAdapter[] = [];
  const receiver = new CallbackReceiver(() => adapter, { passPath: true });
  const payRequest = (amountMinor: bigint, overrides = {}) => payRequestFor(receiver.url, amountMinor, overrides);
  const extraAdapter = (overrides: Partial<WechatConfigInput>) => {
    const created = createWechatAdapter(parseWechatConfig(adapterConfigInput(credentials, simulator.url, { timeoutMs, ...overrides })));
    extraAdapters.push(created);
    return created;
  };

  async function paidAttempt(amountMinor: bigint): Promise<ChannelPayRequest> {
    const request = payRequest(amountMinor);
    await adapter.pay(request);
    simulator.pay(request.attemptNo);
    await waitFor(() => receiver.about(request.attemptNo)[0]);
    return request;
  }

  beforeAll(async () => {
    await receiver.start();
    simulator = await startWechatSimulator({ credentials, callbackRetryDelaysMs: [50, 50, 50] });
    adapter = createWechatAdapter(parseWechatConfig(adapterConfigInput(credentials, simulator.url, { timeoutMs })));
  });

  afterAll(async () => {
    await Promise.all([...extraAdapters, adapter].map((each) => each.dispose()));
    await simulator.close();
    await receiver.close();
  });

  describe('calls', () => {
    it('gives up on a hang at the timeout with UNKNOWN, never FAILED, and the query finds the order', async () => {
      const request = payRequest(5004n);
      simulator.injectFault({ path: '/v3/pay/transactions/native' }, { kind: 'hangAfterApply' });
      const startedAt = Date.now();
      expect(await adapter.pay(request)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(Date.now() - startedAt).toBeLessThan(timeoutMs + 700);
      expect(await adapter.query(queryOf(request))).toEqual({ status: 'PENDING' });
    });

    it('is UNKNOWN on a hung query, refund or close', async () => {
      const payment = await paidAttempt(600n);
      const { attemptNo } = payment;
      simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind: 'hang' });
      expect(await adapter.query(queryOf(payment))).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind: 'hang' });
      expect(await adapter.close(attemptNo)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      const refund = refundRequestFor(receiver.url, payment, 600n);
      simulator.injectFault({ method: 'POST', path: '/v3/refund/domestic/refunds' }, { kind: 'hangAfterApply' });
      expect(await adapter.refund(refund)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      // The refund went through although its answer was lost; the same refund number asked again is the same refund.
      expect(await adapter.queryRefund(refundQueryOf(refund))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 600n });
      expect(await adapter.refund(refund)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 600n });
    });

    it('is UNKNOWN on 500 SYSTEM_ERROR and on 429, for orders, queries, refunds and close', async () => {
      simulator.injectFault({ path: '/v3/pay/transactions/native' }, { kind: 'error', status: 500, code: 'SYSTEM_ERROR', message: '系统错误' });
      expect(await adapter.pay(payRequest(5003n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('500 SYSTEM_ERROR') });
      const payment = await paidAttempt(700n);
      const { attemptNo } = payment;
      simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind: 'error', status: 500, code: 'SYSTEM_ERROR' });
      expect(await adapter.query(queryOf(payment))).toMatchObject({ status: 'UNKNOWN' });
      simulator.injectFault({ method: 'POST', path: '/v3/refund/domestic/refunds' }, { kind: 'error', status: 500, code: 'SYSTEM_ERROR' });
      expect(await adapter.refund(refundRequestFor(receiver.url, payment, 100n))).toMatchObject({ status: 'UNKNOWN' });
      simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind: 'error', status: 500, code: 'SYSTEM_ERROR' }, 2);
      expect(await adapter.close(attemptNo)).toMatchObject({ status: 'UNKNOWN' });
      simulator.injectFault({ path: '/v3/pay/transactions/native' }, { kind: 'error', status: 429, code: 'FREQUENCY_LIMITED', message: '频率超限' });
      expect(await adapter.pay(payRequest(100n))).toEqual({ status: 'FAILED', code: 'FREQUENCY_LIMITED', message: '频率超限' });
    });

    it('trusts no answer with a bad signature, an unknown Wechatpay-Serial or no signature at all', async () => {
      const never = queryOf(payRequest(1n));
      for (const kind of ['badSignature', 'unknownSerial', 'unsigned'] as const) {
        simulator.injectFault({ path: '/v3/pay/transactions/native' }, { kind });
        expect(await adapter.pay(payRequest(100n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('not signed by WeChat Pay') });
        // A 404 ORDER_NOT_EXIST means "never charged" only when WeChat signed it.
        simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind });
        expect(await adapter.query(never)).toMatchObject({ status: 'UNKNOWN' });
      }
      expect(await adapter.query(never)).toEqual({ status: 'NOT_FOUND' });
    });

    it('is refused by WeChat (401 SIGN_ERROR) when its merchant key is not the registered one, and says UNKNOWN', async () => {
      const stranger = extraAdapter({ merchantPrivateKeyPem: generateRsaPair().privateKeyPem });
      const request = payRequest(100n);
      expect(await stranger.pay(request)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('not signed') });
      expect(simulator.requests.at(-1)).toMatchObject({ url: '/v3/pay/transactions/native', status: 401 });
      expect(simulator.books.orders.has(request.attemptNo)).toBe(false);
    });

    it('refuses a tampered bill, a download elsewhere and a failed bill request', async () => {
      const date = beijingDateOf(simulator.books.orders.get((await paidAttempt(100n)).attemptNo)!.successTime!);
      simulator.injectFault({ path: '/v3/bill/tradebill' }, { kind: 'tamper', edit: (body) => void (body.hash_value = '0'.repeat(40)) });
      await expect(adapter.downloadStatement(date)).rejects.toThrow(/digest/);
      simulator.injectFault({ path: '/v3/bill/tradebill' }, { kind: 'tamper', edit: (body) => void (body.download_url = 'https://attacker.example/v3/billdownload/file?token=x') });
      await expect(adapter.downloadStatement(date)).rejects.toThrow(/elsewhere/);
      simulator.injectFault({ path: '/v3/bill/tradebill' }, { kind: 'error', status: 500, code: 'SYSTEM_ERROR' });
      await expect(adapter.downloadStatement(date)).rejects.toThrow(/500/);
      expect(await adapter.downloadStatement(date)).toContain('SUCCESS');
    });

    it('has its own bounded pool: a second call waits for the one connection, another adapter is not slowed', async () => {
      const narrow = extraAdapter({ maxConnections: 1 });
      const other = extraAdapter({ maxConnections: 1 });
      const payment = await paidAttempt(100n);
      const { attemptNo } = payment;
      simulator.resetPeak();
      const baseline = simulator.peakConnections;
      simulator.injectFault({ path: '/v3/pay/transactions/out-trade-no' }, { kind: 'hang' });
      const hung = narrow.query(queryOf(payment));
      await waitFor(() => simulator.requests.find((entry) => entry.status === 0 && entry === simulator.requests.at(-1)));
      const seen = simulator.requests.length;
      const queued = narrow.query(queryOf(payment));
      const startedAt = Date.now();
      expect(await other.query(queryOf(payment))).toMatchObject({ status: 'SUCCEEDED' });
      expect(Date.now() - startedAt).toBeLessThan(timeoutMs);
      // Only the other adapter's query reached WeChat: the narrow adapter's second call waits for its connection.
      expect(simulator.requests.length).toBe(seen + 1);
      expect(await hung).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      // Once the hung call gives up, the queued one gets the connection for what is left of its own time.
      expect(['SUCCEEDED', 'UNKNOWN']).toContain((await queued).status);
      expect(simulator.peakConnections - baseline).toBeLessThanOrEqual(2);
    });

    it('keeps its credentials out of JSON', () => {
      const printed = JSON.stringify(adapter);
      expect(printed).not.toContain(credentials.merchantPrivateKeyPem.split('\n')[1]!);
      expect(printed).not.toContain(credentials.apiV3Key);
    });
  });

  describe('callbacks', () => {
    const verify = (callback: { headers: Record<string, string>; rawBody: string }) => adapter.verifyNotification({ headers: callback.headers, rawBody: callback.rawBody });
    let attemptNo = '';

    beforeAll(async () => {
      attemptNo = (await paidAttempt(1500n)).attemptNo;
    });

    it('accepts a genuine callback and names it by its notification id, the same for the same bytes', () => {
      const callback = simulator.callbackFor({ outTradeNo: attemptNo }, { id: 'EV-genuine-1' });
      const first = verify(callback);
      expect(first).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', attemptNo, result: { status: 'SUCCEEDED', amountMinor: 1500n } }, replayKey: 'id:EV-genuine-1', replayWindowMs: 10 * 60_000 });
      expect(verify(callback)).toEqual(first);
    });

    it('names a retry (the same notification id under a fresh nonce) as the notification it repeats', () => {
      const first = simulator.callbackFor({ outTradeNo: attemptNo }, { id: 'EV-same-id-1' });
      const again = simulator.callbackFor({ outTradeNo: attemptNo }, { id: 'EV-same-id-1' });
      expect(first.headers['Wechatpay-Nonce']).not.toBe(again.headers['Wechatpay-Nonce']);
      expect(verify(again)).toMatchObject({ ok: true, replayKey: (verify(first) as { replayKey: string }).replayKey });
    });

    it('refuses a tampered body without using up the genuine callback', () => {
      const callback = simulator.callbackFor({ outTradeNo: attemptNo });
      const tampered = { ...callback, rawBody: callback.rawBody.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ') };
      expect(verify(tampered)).toEqual({ ok: false, reason: 'invalid signature' });
      expect(verify(callback).ok).toBe(true);
    });

    it('refuses timestamps more than five minutes away either way', () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { timestampSeconds: nowSeconds - 301 }))).toEqual({ ok: false, reason: 'stale timestamp' });
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { timestampSeconds: nowSeconds + 301 }))).toEqual({ ok: false, reason: 'stale timestamp' });
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { timestampSeconds: nowSeconds - 240 })).ok).toBe(true);
    });

    it('refuses another signing key, an unknown serial, and a resource sealed with another APIv3 key', () => {
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { signingKeyPem: generateRsaPair().privateKeyPem }))).toEqual({ ok: false, reason: 'invalid signature' });
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { serial: 'PUB_KEY_ID_0114000000000000000000000000' }))).toEqual({ ok: false, reason: 'unknown Wechatpay-Serial' });
      expect(verify(simulator.callbackFor({ outTradeNo: attemptNo }, { apiV3Key: generateApiV3Key() }))).toMatchObject({ ok: false, reason: expect.stringContaining('decrypt') });
      expect(verify({ headers: {}, rawBody: '{}' })).toMatchObject({ ok: false });
      expect(verify({ headers: { 'wechatpay-timestamp': 'x' }, rawBody: '' })).toMatchObject({ ok: false });
    });

    it('answers a callback Tongbao failed to store with FAIL, and accepts WeChat\'s retry of it', async () => {
      const request = payRequest(1600n);
      await adapter.pay(request);
      // Tongbao fails to process the first delivery (its database is down, say) and answers FAIL.
      receiver.failNext.set(request.attemptNo, 1);
      simulator.pay(request.attemptNo);
      const deliveries = await waitFor(() => {
        const about = simulator.deliveries.filter((delivery) => delivery.subjectNo === request.attemptNo);
        return about.length >= 2 ? about : undefined;
      });
      expect(JSON.parse(deliveries[0]!.responseBody)).toEqual({ code: 'FAIL', message: '失败' });
      // The retry carries the same notification id, which was not spent because the first delivery was not stored.
      expect(deliveries.map((delivery) => delivery.statusCode)).toEqual([400, 204]);
      const [failed, retried] = receiver.about(request.attemptNo);
      expect(failed!.verification.ok && retried!.verification.ok && failed!.verification.replayKey === retried!.verification.replayKey).toBe(true);
    });
  });
});
