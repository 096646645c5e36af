import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelPreauthFreezeRequest } from '../../src/channels/types.js';
import { parseUnionpayConfig, statementHeader, unionpayProducts } from '../../src/channels/unionpay/index.js';
import { formBody, settlementDayOf, txnTimeOf } from '../../src/channels/unionpay/protocol.js';
import { withSignature } from '../../src/channels/unionpay/signature.js';
import { merId, otherMerId, startHarness, submitForm, uniqueNo, waitFor, type Harness } from '../simulators/unionpay/harness.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

describe('UnionPay callbacks, pre-authorization, statements and configuration', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const notifyUrl = () => `${h.receiver.url}/notify/unionpay`;
  const token = { type: 'token', id: '6235000000000001' };
  const tokenPay = (amountMinor: bigint) => ({
    attemptNo: uniqueNo('A'), tradeNo: uniqueNo('T'), amountMinor, currency: 'CNY', subject: 'tea', expiresAt: new Date(Date.now() + 60_000),
    notifyUrl: notifyUrl(), product: unionpayProducts.token, payer: token,
  });

  describe('callback verification', () => {
    const fields = (overrides: Record<string, string> = {}) => ({
      version: '5.1.0', encoding: 'UTF-8', txnType: '01', txnSubType: '01', bizType: '000201', accessType: '0', merId, orderId: uniqueNo('CB'),
      txnTime: txnTimeOf(new Date()), txnAmt: '100', currencyCode: '156', queryId: `${Date.now()}${Math.floor(Math.random() * 1e8)}`.padEnd(21, '0'),
      traceNo: '000001', traceTime: txnTimeOf(new Date()).slice(4), respCode: '00', respMsg: '成功[0000000]', ...overrides,
    });
    const craft = (values = fields(), signer: Parameters<Harness['bank']['signAsUnionpay']>[1] = 'signing') => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: formBody(h.bank.signAsUnionpay(values, signer)),
    });

    it('accepts a callback UnionPay signed', () => {
      const values = fields();
      expect(h.adapter.verifyNotification(craft(values))).toMatchObject({
        ok: true, notification: { kind: 'PAYMENT', attemptNo: values.orderId, result: { status: 'SUCCEEDED', channelTradeNo: values.queryId, amountMinor: 100n, currency: 'CNY' } },
      });
    });

    it('rejects a tampered body', () => {
      const genuine = craft();
      const tampered = { ...genuine, rawBody: genuine.rawBody.replace('txnAmt=100&', 'txnAmt=1000000&') };
      expect(tampered.rawBody).not.toBe(genuine.rawBody);
      expect(h.adapter.verifyNotification(tampered)).toEqual({ ok: false, reason: 'invalid signature: the signature does not verify' });
    });

    it('rejects a callback signed with another key under the genuine certificate', () => {
      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const forged = withSignature({ ...fields(), signMethod: '01', signPubKeyCert: h.pki.signing.certPem }, otherKey);
      expect(h.adapter.verifyNotification({ headers: {}, rawBody: formBody(forged) })).toEqual({ ok: false, reason: 'invalid signature: the signature does not verify' });
    });

    it.each([
      ['untrusted', 'not issued by the configured intermediate'],
      ['expired', 'expired'],
      ['wrongName', 'does not name'],
    ] as const)('rejects a callback signed with the %s certificate', (signer, reason) => {
      expect(h.adapter.verifyNotification(craft(fields(), signer))).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
    });

    it('names a callback by what it reports, so a replay has the same key but another transaction of the same order does not', () => {
      const values = fields();
      const genuine = craft(values);
      const first = h.adapter.verifyNotification(genuine);
      expect(first).toMatchObject({ ok: true, replayKey: `${values.orderId}|${values.txnType}|${values.queryId}`, replayWindowMs: (24 * 3600 + 300) * 1000 });
      expect(h.adapter.verifyNotification(genuine)).toEqual(first);
      const otherQueryId = `${values.queryId.slice(0, 20)}${values.queryId.endsWith('9') ? '8' : '9'}`;
      expect(h.adapter.verifyNotification(craft({ ...values, queryId: otherQueryId }))).toMatchObject({ ok: true, replayKey: expect.stringContaining(otherQueryId) });
    });

    it('rejects stale and future txnTimes, by a configurable window', () => {
      const hours = (count: number) => txnTimeOf(new Date(Date.now() + count * 60 * 60 * 1000));
      expect(h.adapter.verifyNotification(craft(fields({ txnTime: hours(-25) })))).toEqual({ ok: false, reason: 'stale txnTime' });
      expect(h.adapter.verifyNotification(craft(fields({ txnTime: hours(1) })))).toEqual({ ok: false, reason: 'stale txnTime' });
      expect(h.adapter.verifyNotification(craft(fields({ txnTime: hours(-2) }))).ok).toBe(true);
      const strict = h.extraAdapter({ callbackMaxAgeSeconds: 3600 });
      expect(strict.verifyNotification(craft(fields({ txnTime: hours(-2) })))).toEqual({ ok: false, reason: 'stale txnTime' });
    });

    it('rejects callbacks for another merchant, of unknown kinds, or not forms', () => {
      expect(h.adapter.verifyNotification(craft(fields({ merId: otherMerId })))).toEqual({ ok: false, reason: 'the callback is for another merchant' });
      expect(h.adapter.verifyNotification(craft(fields({ txnType: '76' })))).toMatchObject({ ok: false, reason: expect.stringContaining('unsupported txnType') });
      expect(h.adapter.verifyNotification({ headers: {}, rawBody: 'txnType=01&txnType=04' })).toEqual({ ok: false, reason: 'the callback body is not a form' });
      expect(h.adapter.verifyNotification({ headers: {}, rawBody: formBody(fields()) })).toMatchObject({ ok: false, reason: expect.stringContaining('invalid signature') });
    });

    it('parses refund, pre-authorization and cancel callbacks by txnType; a strange currency is never SUCCEEDED', () => {
      expect(h.adapter.verifyNotification(craft(fields({ txnType: '04', txnSubType: '00' })))).toMatchObject({ ok: true, notification: { kind: 'REFUND', result: { status: 'SUCCEEDED' } } });
      expect(h.adapter.verifyNotification(craft(fields({ txnType: '03', txnSubType: '00' })))).toMatchObject({ ok: true, notification: { kind: 'OPERATION', result: { status: 'SUCCEEDED' } } });
      expect(h.adapter.verifyNotification(craft(fields({ txnType: '31', txnSubType: '00' })))).toMatchObject({ ok: true, notification: { kind: 'OPERATION' } });
      expect(h.adapter.verifyNotification(craft(fields({ currencyCode: '840' })))).toMatchObject({ ok: true, notification: { result: { status: 'UNKNOWN' } } });
      expect(h.adapter.verifyNotification(craft(fields({ respCode: 'A9' })))).toMatchObject({ ok: true, notification: { result: { status: 'UNKNOWN' } } });
    });

    it('refuses UnionPay\'s byte-identical resend of a callback it already accepted', async () => {
      const request = tokenPay(1500n);
      await h.adapter.pay(request);
      await waitFor(() => h.receiver.about(request.attemptNo)[0]);
      expect(await h.bank.resendCallback(merId, request.attemptNo)).toBe(400);
      expect(h.receiver.received.at(-1)).toMatchObject({ verification: { ok: true }, replayed: true });
    });

    it('acknowledges in UnionPay\'s terms: HTTP 200 "ok", anything else makes it resend, and the resend is accepted', async () => {
      expect(h.adapter.acknowledge(true)).toEqual({ statusCode: 200, contentType: 'text/plain', body: 'ok' });
      expect(h.adapter.acknowledge(false)).toEqual({ statusCode: 400, contentType: 'text/plain', body: 'fail' });
      const request = tokenPay(1600n);
      h.receiver.failNext.set(request.attemptNo, 1);
      await h.adapter.pay(request);
      const deliveries = await waitFor(() => {
        const about = h.bank.callbacks.filter((callback) => callback.orderId === request.attemptNo);
        return about.length >= 2 ? about : undefined;
      });
      // The first delivery failed before it was stored, so its key was not spent: the resend is accepted.
      expect(deliveries.map((delivery) => delivery.statusCode)).toEqual([400, 200]);
      expect(h.receiver.about(request.attemptNo).map((received) => received.statusCode)).toEqual([400, 200]);
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1600n });
    });
  });

  describe('pre-authorization', () => {
    const freezeOf = (amountMinor: bigint, payer: ChannelPreauthFreezeRequest['payer'] | null = token): ChannelPreauthFreezeRequest => ({
      operationNo: uniqueNo('F'), amountMinor, currency: 'CNY', subject: 'hotel deposit', expiresAt: new Date(Date.now() + 30 * 86_400_000), notifyUrl: notifyUrl(),
      ...(payer ? { payer } : {}),
    });
    const stepOf = (authRef: string, amountMinor: bigint) => ({ operationNo: uniqueNo('P'), authRef, amountMinor, currency: 'CNY', notifyUrl: notifyUrl() });
    const hold = async (amountMinor: bigint) => {
      const request = freezeOf(amountMinor);
      const result = await h.adapter.preauth.freeze(request);
      if (result.status !== 'SUCCEEDED') throw new Error(`expected a hold, got ${JSON.stringify(result)}`);
      return { request, authRef: result.channelRef };
    };

    it('holds, completes up to the hold, reverses the completion, and completes again', async () => {
      const { request, authRef } = await hold(20_000n);
      expect(await h.adapter.preauth.query(request.operationNo)).toMatchObject({ status: 'SUCCEEDED', channelRef: authRef, amountMinor: 20_000n });
      const completion = stepOf(authRef, 15_000n);
      const completed = await h.adapter.preauth.complete(completion);
      expect(completed).toMatchObject({ status: 'SUCCEEDED', amountMinor: 15_000n });
      expect(await h.adapter.preauth.complete(stepOf(authRef, 100n))).toMatchObject({ status: 'FAILED', code: '35' });
      const completeRef = completed.status === 'SUCCEEDED' ? completed.channelRef : '';
      expect(await h.adapter.preauth.completeCancel({ ...stepOf(authRef, 14_999n), completeRef })).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.preauth.completeCancel({ ...stepOf(authRef, 15_000n), completeRef })).toMatchObject({ status: 'SUCCEEDED' });
      expect(await h.adapter.preauth.complete(stepOf(authRef, 20_001n))).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.preauth.complete(stepOf(authRef, 20_000n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 20_000n });
      expect(await h.adapter.preauth.query(completion.operationNo)).toEqual(completed);
    });

    it('releases a hold in full only, after which it cannot be completed', async () => {
      const { authRef } = await hold(5000n);
      expect(await h.adapter.preauth.unfreeze(stepOf(authRef, 4999n))).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.preauth.unfreeze(stepOf(authRef, 5000n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      expect(await h.adapter.preauth.complete(stepOf(authRef, 100n))).toMatchObject({ status: 'FAILED', code: '35' });
    });

    it('refuses to reverse a completion after the day\'s cut-off', async () => {
      const { authRef } = await hold(3000n);
      const completion = stepOf(authRef, 3000n);
      const completed = await h.adapter.preauth.complete(completion);
      h.bank.backdate(merId, completion.operationNo, 24 * 60 * 60 * 1000);
      const completeRef = completed.status === 'SUCCEEDED' ? completed.channelRef : '';
      expect(await h.adapter.preauth.completeCancel({ ...stepOf(authRef, 3000n), completeRef })).toMatchObject({ status: 'FAILED', code: '35' });
    });

    it('holds through the payer\'s browser when there is no token', async () => {
      const request = freezeOf(8000n, null);
      const result = await h.adapter.preauth.freeze(request);
      expect(result).toMatchObject({ status: 'PENDING', payerAction: { type: 'FORM', fields: { txnType: '02', bizType: '000201', orderId: request.operationNo } } });
      expect(await h.adapter.preauth.query(request.operationNo)).toEqual({ status: 'NOT_FOUND' });
      await submitForm(result.status === 'PENDING' ? result.payerAction : undefined);
      const callback = await waitFor(() => h.receiver.about(request.operationNo)[0]);
      expect(callback.verification).toMatchObject({ ok: true, notification: { kind: 'OPERATION', result: { status: 'SUCCEEDED', amountMinor: 8000n } } });
      expect(await h.adapter.preauth.query(request.operationNo)).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('declines a hold (4001) and refuses what cannot be sent', async () => {
      expect(await h.adapter.preauth.freeze(freezeOf(4001n))).toMatchObject({ status: 'FAILED', code: '60' });
      expect(await h.adapter.preauth.freeze({ ...freezeOf(100n), currency: 'EUR' })).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
      expect(await h.adapter.preauth.complete(stepOf('', 100n))).toMatchObject({ status: 'FAILED', code: 'INVALID_REFERENCE' });
    });
  });

  describe('statements', () => {
    it('downloads the day\'s zipped ZM file and returns it as CSV', async () => {
      const merchant = h.extraAdapter({ merId: otherMerId });
      const payment = { ...tokenPay(1000n) };
      const paid = await merchant.pay(payment);
      const refund = { refundNo: uniqueNo('R'), attemptNo: payment.attemptNo, channelTradeNo: null, paymentAmountMinor: payment.amountMinor, amountMinor: 300n, currency: 'CNY', reason: null, notifyUrl: notifyUrl() };
      const refunded = await merchant.refund(refund);
      await merchant.pay(tokenPay(4001n));
      const day = settlementDayOf(new Date());
      const csv = await merchant.downloadStatement(day);
      const payQueryId = paid.status === 'SUCCEEDED' ? paid.channelTradeNo : '';
      const refundQueryId = refunded.status === 'SUCCEEDED' ? refunded.channelRefundNo : '';
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe(statementHeader);
      expect(lines.slice(1).map((line) => line.split(',').slice(0, 12))).toEqual([
        [day, '01', '01', '000301', payment.attemptNo, payQueryId, '', '1000', 'CNY', '6', '994', expect.stringMatching(/^\d{6}$/)],
        [day, '04', '00', '000301', refund.refundNo, refundQueryId, payQueryId, '300', 'CNY', '-1', '-299', expect.stringMatching(/^\d{6}$/)],
      ]);
    });

    it('returns only the header for a day without transactions, and refuses bad dates and untrusted answers', async () => {
      expect(await h.adapter.downloadStatement('2020-02-29')).toBe(`${statementHeader}\n`);
      await expect(h.adapter.downloadStatement('2020-13-01')).rejects.toThrow(/yyyy-MM-dd/);
      h.bank.failNext('badSignature');
      await expect(h.adapter.downloadStatement(settlementDayOf(new Date()))).rejects.toThrow(/untrusted answer/);
    });
  });

  describe('configuration and request authentication', () => {
    it('fills defaults and names the bad field', () => {
      expect(parseUnionpayConfig(h.settings())).toMatchObject({ channelType: '07', signerName: '中国银联股份有限公司', maxConnections: 16, callbackMaxAgeSeconds: 86_400 });
      expect(() => parseUnionpayConfig(h.settings({ merId: '123' }))).toThrow(/unionpay config: merId/);
      expect(() => parseUnionpayConfig(h.settings({ timeoutMs: 0 }))).toThrow(/timeoutMs/);
      expect(() => parseUnionpayConfig(h.settings({ channelType: '09' }))).toThrow(/channelType/);
      expect(() => parseUnionpayConfig(h.settings({ merchantPrivateKeyPem: 'not a key' }))).toThrow(/merchantPrivateKeyPem must be an RSA private key/);
      expect(() => parseUnionpayConfig(h.settings({ rootCertPem: 'not a certificate' }))).toThrow(/rootCertPem/);
      expect(() => parseUnionpayConfig(h.settings({ colour: 'blue' }))).toThrow(/unionpay config/);
      expect(() => parseUnionpayConfig(null)).toThrow(/must be an object/);
    });

    it('never shows the private key in JSON or inspection', () => {
      const config = parseUnionpayConfig(h.settings());
      for (const text of [JSON.stringify(config), inspect(config), JSON.stringify(h.adapter), inspect(h.adapter, { depth: 5 })]) {
        expect(text).not.toContain('PRIVATE KEY');
      }
      expect(config.merchantPrivateKeyPem).toContain('PRIVATE KEY');
    });

    it('is refused by UnionPay when signing with the wrong key or as an unknown merchant, and nothing is charged', async () => {
      const impostor = h.extraAdapter({ merchantPrivateKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
      const request = tokenPay(1000n);
      expect(await impostor.pay(request)).toMatchObject({ status: 'FAILED', code: '11' });
      expect(h.bank.books.find(merId, request.attemptNo)).toBeUndefined();
      expect(await h.extraAdapter({ merId: '777290058119999' }).pay(tokenPay(1000n))).toMatchObject({ status: 'FAILED', code: '31' });
    });
  });
});
