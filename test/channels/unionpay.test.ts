import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelPayRequest, ChannelRefundRequest } from '../../src/channels/types.js';
import { unionpayProducts, type SentOrder, type SentOrderBook } from '../../src/channels/unionpay/index.js';
import { txnTimeOf } from '../../src/channels/unionpay/protocol.js';
import { verifyFieldsSignature } from '../../src/channels/unionpay/signature.js';
import { merId, settleDelayMs, sleep, startHarness, submitForm, uniqueNo, waitFor, type Harness } from '../simulators/unionpay/harness.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

describe('UnionPay channel against the simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const payRequest = (amountMinor: bigint, overrides: Partial<ChannelPayRequest> = {}): ChannelPayRequest => ({
    attemptNo: uniqueNo('A'),
    tradeNo: uniqueNo('T'),
    amountMinor,
    currency: 'CNY',
    subject: 'tea',
    expiresAt: new Date(Date.now() + 15 * 60 * 1000),
    notifyUrl: `${h.receiver.url}/notify/unionpay`,
    ...overrides,
  });
  const tokenPay = (amountMinor: bigint) => payRequest(amountMinor, { product: unionpayProducts.token, payer: { type: 'token', id: '6235000000000001' } });
  const refundRequest = (payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, channelTradeNo: string | null = null): ChannelRefundRequest => ({
    refundNo: uniqueNo('R'), attemptNo: payment.attemptNo, channelTradeNo, paymentAmountMinor: payment.amountMinor, amountMinor, currency: 'CNY', reason: null,
    notifyUrl: `${h.receiver.url}/notify/unionpay`,
  });
  const paid = async (amountMinor: bigint) => {
    const request = tokenPay(amountMinor);
    const result = await h.adapter.pay(request);
    if (result.status !== 'SUCCEEDED') throw new Error(`expected a paid attempt, got ${JSON.stringify(result)}`);
    return { request, queryId: result.channelTradeNo };
  };
  const callbackAbout = (subjectNo: string) => waitFor(() => h.receiver.about(subjectNo)[0]);

  describe('gateway payments (front form)', () => {
    it('returns a signed form; the payer pays in the browser; the callback and the query agree', async () => {
      const request = payRequest(1999n, { returnUrl: 'https://shop.example/return' });
      const result = await h.adapter.pay(request);
      expect(result).toMatchObject({ status: 'PENDING', payerAction: { type: 'FORM', url: `${h.bank.url}/gateway/api/frontTransReq.do` } });
      const action = result.status === 'PENDING' ? result.payerAction : undefined;
      const fields = action?.type === 'FORM' ? action.fields : {};
      expect(fields).toMatchObject({
        version: '5.1.0', txnType: '01', txnSubType: '01', bizType: '000201', channelType: '07', merId, orderId: request.attemptNo, txnAmt: '1999',
        currencyCode: '156', frontUrl: 'https://shop.example/return', backUrl: request.notifyUrl, payTimeout: txnTimeOf(request.expiresAt),
      });
      expect(verifyFieldsSignature(fields, createPublicKey(h.pki.merchant.publicKeyPem))).toBe(true);

      expect(await h.adapter.query(queryOf(request))).toEqual({ status: 'NOT_FOUND' });
      expect(await submitForm(action)).toContain('simulated cashier');
      expect(await h.adapter.query(queryOf(request))).toEqual({ status: 'PENDING', channelTradeNo: expect.any(String) });
      const callback = await callbackAbout(request.attemptNo);
      expect(callback.verification).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'SUCCEEDED', amountMinor: 1999n, currency: 'CNY' } } });
      const queried = await h.adapter.query(queryOf(request));
      expect(queried).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n, currency: 'CNY' });
      expect(callback.verification.ok && callback.verification.notification.kind === 'PAYMENT' && callback.verification.notification.result).toEqual(queried);
    });

    it('reports the payer\'s declined card (4001) by callback and query', async () => {
      const request = payRequest(4001n);
      const result = await h.adapter.pay(request);
      await submitForm(result.status === 'PENDING' ? result.payerAction : undefined);
      expect((await callbackAbout(request.attemptNo)).verification).toMatchObject({ ok: true, notification: { result: { status: 'FAILED', code: '60' } } });
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'FAILED', code: '60' });
    });

    it('keeps an order the payer never paid (6003) open until its payTimeout, then reports it closed', async () => {
      const orders = new Map<string, SentOrder>();
      const book: SentOrderBook = { remember: (orderId, order) => void orders.set(orderId, order), recall: (orderId) => orders.get(orderId) };
      const adapter = h.extraAdapter({}, { sentOrders: book });
      const request = payRequest(6003n);
      const result = await adapter.pay(request);
      await submitForm(result.status === 'PENDING' ? result.payerAction : undefined);
      await sleep(settleDelayMs + 50);
      expect(await adapter.query(queryOf(request))).toMatchObject({ status: 'PENDING' });
      expect(await adapter.close(request.attemptNo)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('payTimeout') });
      expect(await adapter.cancel({ cancelNo: uniqueNo('C'), attemptNo: request.attemptNo, channelTradeNo: null, amountMinor: 6003n, currency: 'CNY' })).toMatchObject({ status: 'UNKNOWN' });
      // The deadline passes (the book is rewound, since the simulator cannot wait minutes).
      orders.set(request.attemptNo, { ...orders.get(request.attemptNo)!, payTimeout: txnTimeOf(new Date(Date.now() - 5 * 60 * 1000)) });
      expect(await adapter.close(request.attemptNo)).toEqual({ status: 'CLOSED' });
      expect(await adapter.cancel({ cancelNo: uniqueNo('C'), attemptNo: request.attemptNo, channelTradeNo: null, amountMinor: 6003n, currency: 'CNY' })).toEqual({ status: 'CANCELLED', refunded: false });
    });

    it('refuses what UnionPay would not take, without sending it', async () => {
      expect(await h.adapter.pay(payRequest(100n, { currency: 'USD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
      expect(await h.adapter.pay(payRequest(100n, { attemptNo: 'A_1-2' }))).toMatchObject({ status: 'FAILED', code: 'INVALID_ORDER_ID' });
      expect(await h.adapter.pay(payRequest(100n, { expiresAt: new Date(Date.now() - 1000) }))).toMatchObject({ status: 'FAILED', code: 'ORDER_EXPIRED' });
      expect(await h.adapter.pay(payRequest(100n, { product: 'ALIPAY_PRECREATE' }))).toMatchObject({ status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED' });
      expect(await h.adapter.pay(payRequest(100n, { product: unionpayProducts.token }))).toMatchObject({ status: 'FAILED', code: 'PAYER_REQUIRED' });
    });
  });

  describe('token payments (back-end)', () => {
    it('pays at once, and the query and callback agree', async () => {
      const request = tokenPay(2500n);
      const result = await h.adapter.pay(request);
      expect(result).toMatchObject({ status: 'SUCCEEDED', amountMinor: 2500n, currency: 'CNY', channelTradeNo: expect.stringMatching(/^\d{21}$/) });
      expect(await h.adapter.query(queryOf(request))).toEqual(result);
      expect((await callbackAbout(request.attemptNo)).verification).toMatchObject({ ok: true, notification: { result } });
    });

    it('declines 4001 at once and 4002 after acceptance, as FAILED with UnionPay\'s codes', async () => {
      const declined = tokenPay(4001n);
      expect(await h.adapter.pay(declined)).toMatchObject({ status: 'FAILED', code: '60' });
      expect(await h.adapter.query(queryOf(declined))).toMatchObject({ status: 'FAILED', code: '60' });
      expect(await h.adapter.pay(tokenPay(4002n))).toMatchObject({ status: 'FAILED', code: '64' });
    });

    it('treats a resend of the same attempt as UNKNOWN (UnionPay answers 12), and charges once', async () => {
      const request = tokenPay(2600n);
      const first = await h.adapter.pay(request);
      expect(await h.adapter.pay(request)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('12') });
      expect(await h.adapter.query(queryOf(request))).toEqual(first);
    });

    it('answers PENDING for 6001 (05) and settles by callback', async () => {
      const request = tokenPay(6001n);
      expect(await h.adapter.pay(request)).toMatchObject({ status: 'PENDING', channelTradeNo: expect.any(String) });
      expect((await callbackAbout(request.attemptNo)).verification).toMatchObject({ ok: true, notification: { result: { status: 'SUCCEEDED', amountMinor: 6001n } } });
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('answers PENDING for a slow 6003; the query flips to SUCCEEDED later, with no callback', async () => {
      const request = tokenPay(6003n);
      expect(await h.adapter.pay(request)).toMatchObject({ status: 'PENDING' });
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'PENDING' });
      await sleep(settleDelayMs + 50);
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 6003n });
      expect(h.receiver.about(request.attemptNo)).toHaveLength(0);
    });

    it('answers UNKNOWN on HTTP 500 (5003), and the query finds nothing', async () => {
      const request = tokenPay(5003n);
      expect(await h.adapter.pay(request)).toEqual({ status: 'UNKNOWN', reason: 'UnionPay answered HTTP 500' });
      expect(await h.adapter.query(queryOf(request))).toEqual({ status: 'NOT_FOUND' });
    });

    it('gives up on a hang at the timeout, never FAILED; the query tells whether money moved', async () => {
      const uncharged = tokenPay(5004n);
      const startedAt = Date.now();
      expect(await h.adapter.pay(uncharged)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(Date.now() - startedAt).toBeLessThan(1500);
      expect(await h.adapter.query(queryOf(uncharged))).toEqual({ status: 'NOT_FOUND' });
      const charged = tokenPay(5005n);
      expect(await h.adapter.pay(charged)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await h.adapter.query(queryOf(charged))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5005n });
    });
  });

  describe('answers that cannot be trusted are UNKNOWN, never SUCCEEDED', () => {
    it('an echo of another amount or currency', async () => {
      h.bank.failNext('wrongAmount');
      const request = tokenPay(3100n);
      expect(await h.adapter.pay(request)).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
      h.bank.failNext('wrongCurrency');
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('currency mismatch') });
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3100n });
    });

    it('a status UnionPay never documented', async () => {
      const { request } = await paid(3200n);
      h.bank.failNext('unknownStatus');
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('A9') });
      h.bank.failNext('unknownStatus');
      expect(await h.adapter.pay(tokenPay(3300n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('A9') });
    });

    it.each([
      ['badSignature', 'the signature does not verify'],
      ['untrustedCertificate', 'not issued by the configured intermediate'],
      ['expiredCertificate', 'expired'],
      ['wrongSignerName', 'does not name 中国银联股份有限公司'],
      ['unsigned', 'signPubKeyCert'],
    ] as const)('an answer with %s', async (fault, reason) => {
      const { request } = await paid(3400n);
      h.bank.failNext(fault);
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining(reason) });
    });

    it('a query answered with HTTP 500 or not at all', async () => {
      const { request } = await paid(3500n);
      h.bank.failNext('http500');
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN' });
      h.bank.failNext('hang');
      expect(await h.adapter.query(queryOf(request))).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
    });

    it('an adapter trusting another signer name refuses genuine answers', async () => {
      const misconfigured = h.extraAdapter({ signerName: '00040000:SIGN' });
      expect(await misconfigured.pay(tokenPay(3600n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('00040000:SIGN') });
    });
  });

  describe('queries need the txnTime an order was sent with', () => {
    it('answers UNKNOWN for an order this process has no record of, and finds it through a shared book', async () => {
      const orders = new Map<string, SentOrder>();
      const shared: SentOrderBook = { remember: (orderId, order) => void orders.set(orderId, order), recall: (orderId) => orders.get(orderId) };
      const sender = h.extraAdapter({}, { sentOrders: shared });
      const request = tokenPay(3700n);
      expect(await sender.pay(request)).toMatchObject({ status: 'SUCCEEDED' });
      expect(await h.adapter.query(queryOf(request))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('no record of the txnTime') });
      expect(await h.extraAdapter({}, { sentOrders: shared }).query(queryOf(request))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3700n });
    });

    it('sends nothing when the book cannot record the order', async () => {
      const broken: SentOrderBook = { remember: () => Promise.reject(new Error('database down')), recall: () => undefined };
      const request = tokenPay(3800n);
      expect(await h.extraAdapter({}, { sentOrders: broken }).pay(request)).toMatchObject({ status: 'FAILED', code: 'ORDER_NOT_RECORDED' });
      expect(h.bank.books.find(merId, request.attemptNo)).toBeUndefined();
    });
  });

  describe('refunds', () => {
    it('refunds in parts up to the amount paid; over-refunds are declined', async () => {
      const { request, queryId } = await paid(10_000n);
      const first = refundRequest(request, 3000n);
      const firstResult = await h.adapter.refund(first);
      expect(firstResult).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3000n, currency: 'CNY' });
      expect(await h.adapter.refund(refundRequest(request, 5000n, queryId))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000n });
      expect(await h.adapter.refund(refundRequest(request, 2001n))).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.refund(refundRequest(request, 2000n))).toMatchObject({ status: 'SUCCEEDED' });
      expect(await h.adapter.refund(refundRequest(request, 1n))).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.queryRefund(refundQueryOf(first))).toEqual(firstResult);
      expect((await callbackAbout(first.refundNo)).verification).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: first.refundNo, result: firstResult } });
    });

    it('refunds in full', async () => {
      const { request } = await paid(4500n);
      expect(await h.adapter.refund(refundRequest(request, 4500n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 4500n });
    });

    it('declines refund 4001, settles 6001 by callback, and finds a refund UnionPay never took', async () => {
      const { request } = await paid(20_000n);
      expect(await h.adapter.refund(refundRequest(request, 4001n))).toMatchObject({ status: 'FAILED', code: '60' });
      const delayed = refundRequest(request, 6001n);
      expect(await h.adapter.refund(delayed)).toMatchObject({ status: 'PENDING' });
      expect((await callbackAbout(delayed.refundNo)).verification).toMatchObject({ ok: true, notification: { kind: 'REFUND', result: { status: 'SUCCEEDED', amountMinor: 6001n } } });
      expect(await h.adapter.queryRefund(refundQueryOf(delayed))).toMatchObject({ status: 'SUCCEEDED' });
      const lost = refundRequest(request, 5003n);
      expect(await h.adapter.refund(lost)).toMatchObject({ status: 'UNKNOWN' });
      expect(await h.adapter.queryRefund(refundQueryOf(lost))).toEqual({ status: 'NOT_FOUND' });
    });

    it('refuses to refund an unpaid attempt or one older than 90 days', async () => {
      const declined = tokenPay(4001n);
      await h.adapter.pay(declined);
      expect(await h.adapter.refund(refundRequest(declined, 100n))).toMatchObject({ status: 'FAILED', code: 'ORIGINAL_NOT_PAID' });
      const { request } = await paid(900n);
      h.bank.backdate(merId, request.attemptNo, 91 * 24 * 60 * 60 * 1000);
      expect(await h.adapter.refund(refundRequest(request, 100n))).toMatchObject({ status: 'FAILED', code: '35' });
    });
  });

  describe('cancel (撤销)', () => {
    const cancelOf = (attemptNo: string, amountMinor: bigint, channelTradeNo: string | null = null) => ({ cancelNo: uniqueNo('C'), attemptNo, channelTradeNo, amountMinor, currency: 'CNY' });

    it('cancels a payment of the same day in full, after which nothing is left to refund', async () => {
      const { request, queryId } = await paid(1200n);
      expect(await h.adapter.cancel(cancelOf(request.attemptNo, 1199n, queryId))).toMatchObject({ status: 'FAILED', code: '36' });
      expect(await h.adapter.cancel(cancelOf(request.attemptNo, 1200n))).toEqual({ status: 'CANCELLED', refunded: true });
      expect(await h.adapter.refund(refundRequest(request, 1n))).toMatchObject({ status: 'FAILED', code: '36' });
    });

    it('is refused after the day\'s cut-off, so the caller refunds instead', async () => {
      const { request, queryId } = await paid(1300n);
      h.bank.backdate(merId, request.attemptNo, 24 * 60 * 60 * 1000);
      expect(await h.adapter.cancel(cancelOf(request.attemptNo, 1300n, queryId))).toMatchObject({ status: 'FAILED', code: '35', message: expect.stringContaining('2040006') });
      expect(await h.adapter.refund(refundRequest(request, 1300n, queryId))).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('closes an attempt that was never paid', async () => {
      const declined = tokenPay(4001n);
      await h.adapter.pay(declined);
      expect(await h.adapter.cancel(cancelOf(declined.attemptNo, 4001n))).toEqual({ status: 'CANCELLED', refunded: false });
      expect(await h.adapter.close(declined.attemptNo)).toEqual({ status: 'CLOSED' });
    });

    it('says ALREADY_PAID when closing a paid attempt', async () => {
      const { request } = await paid(1400n);
      expect(await h.adapter.close(request.attemptNo)).toEqual({ status: 'ALREADY_PAID' });
    });
  });
});
