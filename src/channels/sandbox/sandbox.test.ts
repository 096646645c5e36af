import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackReceiver, sleep, waitFor } from '../../../test/helpers/sandbox-callbacks.js';
import type { ChannelPayRequest, ChannelRefundRequest } from '../types.js';
import { createSandboxAdapter, type SandboxAdapter } from './adapter.js';
import { generateEd25519KeyPair, generateSandboxCredentials } from './keys.js';
import { sandboxHeaders, signedHeaders, statementDateOf, statementHeader } from './protocol.js';
import { startSandboxBank, type SandboxBank } from './simulator.js';
import { queryOf, refundQueryOf } from '../../../test/helpers/channel-requests.js';

const credentials = generateSandboxCredentials();
const callbackDelayMs = 150;

let attemptCounter = 0;
function uniqueNo(prefix: string): string {
  attemptCounter += 1;
  return `${prefix}${attemptCounter}_${randomBytes(3).toString('hex')}`;
}

function adapterFor(bank: SandboxBank, overrides: Partial<Parameters<typeof createSandboxAdapter>[0]> = {}): SandboxAdapter {
  return createSandboxAdapter({
    baseUrl: bank.url,
    mchId: credentials.mchId,
    merchantPrivateKeyPem: credentials.merchantPrivateKeyPem,
    bankPublicKeyPem: credentials.bankPublicKeyPem,
    timeoutMs: 300,
    ...overrides,
  });
}

describe('sandbox channel over HTTP', () => {
  let bank: SandboxBank;
  let adapter: SandboxAdapter;
  const receiver = new CallbackReceiver(() => adapter);
  const extraAdapters: SandboxAdapter[] = [];

  const payRequest = (amountMinor: bigint, attemptNo = uniqueNo('A')): ChannelPayRequest => ({
    attemptNo,
    tradeNo: `T${attemptNo}`,
    amountMinor,
    currency: 'CNY',
    subject: 'sandbox test',
    expiresAt: new Date(Date.now() + 15 * 60 * 1000),
    notifyUrl: `${receiver.url}/notify/sandbox?source=test`,
  });
  const refundRequest = (payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, refundNo = uniqueNo('R')): ChannelRefundRequest => ({
    refundNo,
    attemptNo: payment.attemptNo,
    channelTradeNo: null,
    paymentAmountMinor: payment.amountMinor,
    amountMinor,
    currency: 'CNY',
    reason: 'customer asked',
    notifyUrl: `${receiver.url}/notify/sandbox`,
  });
  const extraAdapter = (overrides: Partial<Parameters<typeof createSandboxAdapter>[0]>): SandboxAdapter => {
    const created = adapterFor(bank, overrides);
    extraAdapters.push(created);
    return created;
  };

  beforeAll(async () => {
    await receiver.start();
    bank = await startSandboxBank({
      port: 0,
      bankPrivateKeyPem: credentials.bankPrivateKeyPem,
      merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }],
      callbackDelayMs,
      callbackRetryDelaysMs: [50, 50, 50],
    });
    adapter = adapterFor(bank);
  });

  afterAll(async () => {
    await Promise.all(extraAdapters.map((extra) => extra.dispose()));
    await adapter.dispose();
    await bank.close();
    await receiver.close();
  });

  it('pays synchronously and the query agrees', async () => {
    const pay = payRequest(1999n);
    const result = await adapter.pay(pay);
    expect(result).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n, currency: 'CNY' });
    expect(result.status === 'SUCCEEDED' && result.paidAt).toBeInstanceOf(Date);
    expect(await adapter.query(queryOf(pay))).toEqual(result);
  });

  it('charges once when the same attempt is sent again', async () => {
    const pay = payRequest(2500n);
    const first = await adapter.pay(pay);
    const second = await adapter.pay(pay);
    expect(second).toEqual(first);
    const statement = await adapter.downloadStatement(statementDateOf(new Date()));
    expect(statement.split('\n').filter((line) => line.split(',')[1] === pay.attemptNo)).toHaveLength(1);
  });

  it('treats the same attempt with another amount as UNKNOWN, never as a new charge', async () => {
    const pay = payRequest(2600n);
    await adapter.pay(pay);
    expect(await adapter.pay({ ...pay, amountMinor: 2601n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('DUPLICATE_OUT_TRADE_NO') });
  });

  it('declines 4004 and 4005 as FAILED results', async () => {
    const declined = payRequest(4004n);
    expect(await adapter.pay(declined)).toMatchObject({ status: 'FAILED', code: 'CARD_DECLINED' });
    expect(await adapter.query(queryOf(declined))).toMatchObject({ status: 'FAILED', code: 'CARD_DECLINED' });
    expect(await adapter.pay(payRequest(4005n))).toMatchObject({ status: 'FAILED', code: 'INSUFFICIENT_FUNDS' });
  });

  it('answers UNKNOWN on a 500 (5003), and the query finds nothing', async () => {
    const pay = payRequest(5003n);
    expect(await adapter.pay(pay)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('500') });
    expect(await adapter.query(queryOf(pay))).toEqual({ status: 'NOT_FOUND' });
  });

  it('gives up on a hang (5004) at the timeout; the query says nothing was charged', async () => {
    const pay = payRequest(5004n);
    const startedAt = Date.now();
    expect(await adapter.pay(pay)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'FAILED', code: 'TIMEOUT' });
  });

  it('finds the late success of a hang that charged (5005) by query', async () => {
    const pay = payRequest(5005n);
    expect(await adapter.pay(pay)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
    expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5005n });
  });

  it('answers PENDING for 6001 and delivers a verified SUCCEEDED callback', async () => {
    const pay = payRequest(6001n);
    expect(await adapter.pay(pay)).toMatchObject({ status: 'PENDING' });
    const [callback] = await waitFor(() => (receiver.about(pay.attemptNo).length > 0 ? receiver.about(pay.attemptNo) : undefined));
    expect(callback?.path).toBe('/notify/sandbox?source=test');
    expect(callback?.verification).toMatchObject({
      ok: true,
      notification: { kind: 'PAYMENT', attemptNo: pay.attemptNo, result: { status: 'SUCCEEDED', amountMinor: 6001n, currency: 'CNY' } },
    });
    expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6001n });
  });

  it('delivers a FAILED callback for 6002', async () => {
    const pay = payRequest(6002n);
    expect(await adapter.pay(pay)).toMatchObject({ status: 'PENDING' });
    const [callback] = await waitFor(() => (receiver.about(pay.attemptNo).length > 0 ? receiver.about(pay.attemptNo) : undefined));
    expect(callback?.verification).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'FAILED', code: 'AUTHENTICATION_FAILED' } } });
  });

  it('retries a callback until it is acknowledged', async () => {
    const pay = payRequest(6001n);
    receiver.failNext.set(pay.attemptNo, 2);
    await adapter.pay(pay);
    const callbacks = await waitFor(() => (receiver.about(pay.attemptNo).length >= 3 ? receiver.about(pay.attemptNo) : undefined));
    // Each retry is signed afresh, so the replay guard accepts it.
    expect(new Set(callbacks.map((callback) => callback.headers['x-sandbox-nonce'])).size).toBe(3);
    await sleep(200);
    expect(receiver.about(pay.attemptNo)).toHaveLength(3);
  });

  it('settles 6003 without a callback: the query flips to SUCCEEDED after the delay', async () => {
    const pay = payRequest(6003n);
    expect(await adapter.pay(pay)).toMatchObject({ status: 'PENDING' });
    expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'PENDING' });
    await sleep(callbackDelayMs + 50);
    expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
    await sleep(100);
    expect(receiver.about(pay.attemptNo)).toHaveLength(0);
  });

  describe('callback verification', () => {
    const bankKey = createPrivateKey(credentials.bankPrivateKeyPem);
    const body = (attemptNo: string) =>
      JSON.stringify({ event: 'payment', bank_txn_no: 'sbp_x', out_trade_no: attemptNo, status: 'SUCCEEDED', amount: '100', currency: 'CNY', paid_at: new Date().toISOString() });
    const craft = (options: { rawBody?: string; signWith?: ReturnType<typeof createPrivateKey>; nowMs?: number; mchId?: string; path?: string } = {}) => {
      const rawBody = options.rawBody ?? body(uniqueNo('CB'));
      const callbackPath = options.path ?? '/notify/sandbox';
      const headers = signedHeaders({
        mchId: options.mchId ?? credentials.mchId, method: 'POST', path: callbackPath, body: rawBody,
        privateKey: options.signWith ?? bankKey, nowMs: options.nowMs ?? Date.now(), nonce: randomBytes(16).toString('hex'),
      });
      return { headers: { ...headers, [sandboxHeaders.callbackPath]: callbackPath }, rawBody };
    };

    it('accepts a callback signed by the bank', () => {
      expect(adapter.verifyNotification(craft())).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'SUCCEEDED', amountMinor: 100n } } });
    });

    it('rejects a tampered body', () => {
      const genuine = craft();
      expect(adapter.verifyNotification({ ...genuine, rawBody: genuine.rawBody.replace('"100"', '"1000000"') })).toEqual({ ok: false, reason: 'invalid signature' });
    });

    it('rejects a callback signed with another key', () => {
      const otherKey = createPrivateKey(generateEd25519KeyPair().privateKeyPem);
      expect(adapter.verifyNotification(craft({ signWith: otherKey }))).toEqual({ ok: false, reason: 'invalid signature' });
    });

    it('rejects a stale timestamp', () => {
      expect(adapter.verifyNotification(craft({ nowMs: Date.now() - 6 * 60 * 1000 }))).toEqual({ ok: false, reason: 'stale timestamp' });
    });

    it('names a callback by its nonce, for Tongbao to refuse a replay, and keeps it two windows', () => {
      const genuine = craft();
      const nonce = (genuine.headers as Record<string, string>)[sandboxHeaders.nonce];
      const first = adapter.verifyNotification(genuine);
      expect(first).toMatchObject({ ok: true, replayKey: `nonce:${nonce}`, replayWindowMs: 10 * 60 * 1000 });
      // The adapter keeps no memory of its own: the same bytes name the same key, which the route refuses once spent.
      expect(adapter.verifyNotification(genuine)).toEqual(first);
      expect(adapter.verifyNotification(craft())).toMatchObject({ ok: true, replayKey: expect.not.stringContaining(String(nonce)) });
    });

    it('rejects a callback for another merchant or posted to another path', () => {
      expect(adapter.verifyNotification(craft({ mchId: 'someone_else' })).ok).toBe(false);
      expect(adapter.verifyNotification({ ...craft({ path: '/notify/sandbox' }), path: '/notify/other' })).toEqual({ ok: false, reason: 'invalid signature' });
    });

    it('acknowledges in the bank\'s words', () => {
      expect(adapter.acknowledge(true)).toEqual({ statusCode: 200, contentType: 'application/json', body: '{"code":"SUCCESS"}' });
      expect(adapter.acknowledge(false)).toEqual({ statusCode: 400, contentType: 'application/json', body: '{"code":"FAIL"}' });
    });
  });

  describe('request authentication', () => {
    it('refuses a request signed with the wrong key, and charges nothing', async () => {
      const impostor = extraAdapter({ merchantPrivateKeyPem: generateEd25519KeyPair().privateKeyPem });
      const pay = payRequest(1000n);
      expect(await impostor.pay(pay)).toMatchObject({ status: 'FAILED', code: 'INVALID_SIGNATURE' });
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'NOT_FOUND' });
    });

    it('refuses an unknown merchant', async () => {
      expect(await extraAdapter({ mchId: 'nobody' }).pay(payRequest(1000n))).toMatchObject({ status: 'FAILED', code: 'UNKNOWN_MERCHANT' });
    });

    it('refuses stale timestamps and replayed nonces', async () => {
      const merchantKey = createPrivateKey(credentials.merchantPrivateKeyPem);
      const send = (headers: Record<string, string>) => request(`${bank.url}/v1/payments/A1`, { method: 'GET', headers });
      const sign = (nowMs: number) =>
        signedHeaders({ mchId: credentials.mchId, method: 'GET', path: '/v1/payments/A1', body: '', privateKey: merchantKey, nowMs, nonce: randomBytes(16).toString('hex') });
      const stale = await send(sign(Date.now() - 6 * 60 * 1000));
      expect([stale.statusCode, await stale.body.json()]).toEqual([401, { code: 'STALE_REQUEST', message: expect.any(String) }]);
      const headers = sign(Date.now());
      const first = await send(headers);
      expect(first.statusCode).toBe(404);
      await first.body.dump();
      const replay = await send(headers);
      expect([replay.statusCode, await replay.body.json()]).toEqual([401, { code: 'REPLAYED_NONCE', message: expect.any(String) }]);
    });

    it('answers UNKNOWN when the bank\'s answer does not verify, even though the bank charged', async () => {
      const misconfigured = extraAdapter({ bankPublicKeyPem: generateEd25519KeyPair().publicKeyPem });
      const pay = payRequest(1200n);
      expect(await misconfigured.pay(pay)).toEqual({ status: 'UNKNOWN', reason: 'the answer signature does not verify' });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('fails a request the bank finds invalid, and charges nothing', async () => {
      const expired = { ...payRequest(100n), expiresAt: new Date(Date.now() - 1000) };
      expect(await adapter.pay(expired)).toMatchObject({ status: 'FAILED', code: 'ORDER_EXPIRED' });
      expect(await adapter.pay({ ...payRequest(100n), subject: '' })).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST' });
      expect(await adapter.pay({ ...payRequest(100n), notifyUrl: 'ftp://example.com/notify' })).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST' });
      expect(await adapter.pay(payRequest(100n, 'has space'))).toMatchObject({ status: 'FAILED', code: 'INVALID_REQUEST' });
    });

    it('does not send a currency the channel does not take', async () => {
      expect(await adapter.pay({ ...payRequest(100n), currency: 'KWD' })).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
    });
  });

  describe('refunds', () => {
    it('refunds in parts up to the amount paid, idempotently per refund number', async () => {
      const pay = payRequest(10_000n);
      const paid = await adapter.pay(pay);
      expect(paid.status).toBe('SUCCEEDED');

      const first = refundRequest(pay, 3000n);
      const firstResult = await adapter.refund(first);
      expect(firstResult).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3000n, currency: 'CNY' });
      expect(await adapter.refund(first)).toEqual(firstResult);
      expect(await adapter.refund({ ...first, amountMinor: 3001n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('DUPLICATE_OUT_REFUND_NO') });

      expect(await adapter.refund(refundRequest(pay, 5000n))).toMatchObject({ status: 'SUCCEEDED' });
      expect(await adapter.refund(refundRequest(pay, 2001n))).toMatchObject({ status: 'FAILED', code: 'REFUND_AMOUNT_EXCEEDED' });
      expect(await adapter.refund(refundRequest(pay, 2000n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 2000n });
      expect(await adapter.refund(refundRequest(pay, 1n))).toMatchObject({ status: 'FAILED', code: 'REFUND_AMOUNT_EXCEEDED' });

      expect(await adapter.queryRefund(refundQueryOf(first))).toEqual(firstResult);
      expect(await adapter.queryRefund(refundQueryOf(refundRequest(pay, 100n, 'never_sent')))).toEqual({ status: 'NOT_FOUND' });
    });

    it('refuses to refund an unpaid payment', async () => {
      const pay = payRequest(4004n);
      await adapter.pay(pay);
      expect(await adapter.refund(refundRequest(pay, 100n))).toMatchObject({ status: 'FAILED', code: 'PAYMENT_NOT_PAID' });
      expect(await adapter.refund(refundRequest({ attemptNo: uniqueNo('missing'), amountMinor: 100n }, 100n))).toMatchObject({ status: 'FAILED', code: 'PAYMENT_NOT_FOUND' });
    });

    it('declines refund 4004 and settles refund 6001 by callback', async () => {
      const pay = payRequest(20_000n);
      await adapter.pay(pay);
      expect(await adapter.refund(refundRequest(pay, 4004n))).toMatchObject({ status: 'FAILED', code: 'REFUND_DECLINED' });
      const delayed = refundRequest(pay, 6001n);
      expect(await adapter.refund(delayed)).toMatchObject({ status: 'PENDING' });
      const [callback] = await waitFor(() => (receiver.about(delayed.refundNo).length > 0 ? receiver.about(delayed.refundNo) : undefined));
      expect(callback?.verification).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: delayed.refundNo, result: { status: 'SUCCEEDED', amountMinor: 6001n } } });
      expect(await adapter.queryRefund(refundQueryOf(delayed))).toMatchObject({ status: 'SUCCEEDED' });
    });
  });

  describe('close', () => {
    it('closes a processing payment, which then never settles', async () => {
      const pay = payRequest(6001n);
      await adapter.pay(pay);
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'CLOSED' });
      await sleep(callbackDelayMs + 100);
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'FAILED', code: 'CLOSED' });
      expect(receiver.about(pay.attemptNo)).toHaveLength(0);
    });

    it('says ALREADY_PAID for a paid payment', async () => {
      const pay = payRequest(700n);
      await adapter.pay(pay);
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'ALREADY_PAID' });
    });

    it('closes a number never paid, so a late payment cannot land on it', async () => {
      const pay = payRequest(800n);
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'CLOSED' });
      expect(await adapter.pay(pay)).toMatchObject({ status: 'FAILED', code: 'OUT_TRADE_NO_CLOSED' });
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'NOT_FOUND' });
    });
  });

  it('publishes a signed statement of the day\'s payments and refunds', async () => {
    const merchant = generateSandboxCredentials();
    bank.registerMerchant(merchant.mchId, merchant.merchantPublicKeyPem);
    const own = extraAdapter({ mchId: merchant.mchId, merchantPrivateKeyPem: merchant.merchantPrivateKeyPem });
    const paid = payRequest(1500n);
    const declined = payRequest(4004n);
    await own.pay(paid);
    await own.pay(declined);
    const refund = refundRequest(paid, 500n);
    await own.refund(refund);

    const lines = (await own.downloadStatement(statementDateOf(new Date()))).trimEnd().split('\n');
    expect(lines[0]).toBe(statementHeader);
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows.map((row) => [row[1], row[2], row[3], row[4], row[5]])).toEqual([
      [paid.attemptNo, 'PAY', '1500', 'CNY', 'SUCCEEDED'],
      [declined.attemptNo, 'PAY', '4004', 'CNY', 'FAILED'],
      [refund.refundNo, 'REFUND', '500', 'CNY', 'SUCCEEDED'],
    ]);
    expect(rows.every((row) => row.length === 8 && /^sb[pr]_/.test(row[0] ?? ''))).toBe(true);
    expect(await own.downloadStatement('2001-01-01')).toBe(`${statementHeader}\n`);
    await expect(own.downloadStatement('2024-13-01')).rejects.toThrow('yyyy-MM-dd');
  });

  it('hangs every request while hang-all is on', async () => {
    bank.setHangAll(true);
    try {
      expect(await adapter.query(queryOf(payRequest(100n, 'anything')))).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
    } finally {
      bank.setHangAll(false);
    }
    expect(await adapter.query(queryOf(payRequest(100n, 'anything')))).toEqual({ status: 'NOT_FOUND' });
  });
});

describe('sandbox bank lifecycle', () => {
  const start = (dataDir?: string) =>
    startSandboxBank({
      port: 0,
      bankPrivateKeyPem: credentials.bankPrivateKeyPem,
      merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }],
      callbackDelayMs: 50,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
  const pay = (attemptNo: string, amountMinor: bigint): ChannelPayRequest => ({
    attemptNo, tradeNo: 'T', amountMinor, currency: 'USD', subject: 'lifecycle', expiresAt: new Date(Date.now() + 60_000), notifyUrl: 'http://127.0.0.1:9/notify',
  });

  it('keeps payments and refunds across a restart with a data directory', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tongbao-sandbox-'));
    try {
      const before = await start(dataDir);
      const beforeAdapter = adapterFor(before);
      const paid = await beforeAdapter.pay(pay('KEEP1', 2500n));
      expect(await beforeAdapter.pay(pay('KEEP6003', 6003n))).toMatchObject({ status: 'PENDING' });
      const kept = { refundNo: 'KEEPR1', attemptNo: 'KEEP1', channelTradeNo: null, paymentAmountMinor: 2500n, amountMinor: 1000n, currency: 'USD', reason: null, notifyUrl: 'http://127.0.0.1:9/notify' };
      await beforeAdapter.refund(kept);
      await beforeAdapter.dispose();
      await before.close();

      const after = await start(dataDir);
      const afterAdapter = adapterFor(after);
      try {
        expect(await afterAdapter.query(queryOf(pay('KEEP1', 2500n)))).toEqual(paid);
        // A delayed outcome still settles after the restart.
        await sleep(60);
        expect(await afterAdapter.query(queryOf(pay('KEEP6003', 6003n)))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
        expect(await afterAdapter.queryRefund(refundQueryOf(kept))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1000n });
        const refund = { ...kept, refundNo: 'KEEPR2', amountMinor: 1501n, currency: 'USD', reason: null, notifyUrl: 'http://127.0.0.1:9/notify' };
        expect(await afterAdapter.refund(refund)).toMatchObject({ status: 'FAILED', code: 'REFUND_AMOUNT_EXCEEDED' });
        expect(await afterAdapter.refund({ ...refund, refundNo: 'KEEPR3', amountMinor: 1500n })).toMatchObject({ status: 'SUCCEEDED' });
      } finally {
        await afterAdapter.dispose();
        await after.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('ends hanging requests when it closes', async () => {
    const bank = await start();
    const patient = adapterFor(bank, { timeoutMs: 5000 });
    const hanging = patient.pay(pay('HANG1', 5004n));
    await sleep(100);
    const startedAt = Date.now();
    await bank.close();
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(await hanging).toMatchObject({ status: 'UNKNOWN' });
    await patient.dispose();
  });
});
