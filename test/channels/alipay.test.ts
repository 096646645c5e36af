import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlipayAdapter, parseAlipayConfig, type AlipayAdapter, type AlipayConfigInput } from '../../src/channels/alipay/index.js';
import type { ChannelPayRequest, ChannelRefundRequest } from '../../src/channels/types.js';
import { generateRsaKeyPair, rsaSign, signContent } from '../../src/shared/crypto.js';
import { formatWallClock } from '../../src/shared/time.js';
import { billDetailHeader, startAlipaySimulator, type AlipaySimulator } from '../simulators/alipay/index.js';
import { Receiver, waitFor } from '../simulators/alipay/receiver.js';
import { queryOf, refundQueryOf } from '../helpers/channel-requests.js';

const appKeys = generateRsaKeyPair();
const alipayKeys = generateRsaKeyPair();
const strangerKeys = generateRsaKeyPair();
const appId = '2021000122600001';
const timeoutMs = 400;
const payees = [
  { identity: 'payee@example.com', type: 'ALIPAY_LOGON_ID' as const, name: '张三' },
  { identity: '2088102177846881', type: 'ALIPAY_USER_ID' as const, name: '李四' },
];

let counter = 0;
const uniqueNo = (prefix: string) => `${prefix}${(counter += 1)}_${randomBytes(3).toString('hex')}`;

describe('alipay channel against the simulator', () => {
  let sim: AlipaySimulator;
  let adapter: AlipayAdapter;
  const extras: AlipayAdapter[] = [];
  const receiver = new Receiver(() => adapter);

  const configInput = (overrides: Partial<AlipayConfigInput> = {}): AlipayConfigInput => ({
    appId, appPrivateKeyPem: appKeys.privateKeyPem, alipayPublicKeyPem: alipayKeys.publicKeyPem, gatewayUrl: sim.gatewayUrl, timeoutMs, ...overrides,
  });
  const extraAdapter = (overrides: Partial<AlipayConfigInput>) => {
    const created = createAlipayAdapter(parseAlipayConfig(configInput(overrides)));
    extras.push(created);
    return created;
  };
  const payRequest = (amountMinor: bigint, overrides: Partial<ChannelPayRequest> = {}): ChannelPayRequest => {
    const attemptNo = uniqueNo('A');
    return {
      attemptNo, tradeNo: `T${attemptNo}`, amountMinor, currency: 'CNY', subject: '通宝测试 order', expiresAt: new Date(Date.now() + 15 * 60_000),
      notifyUrl: `${receiver.url}/channels/alipay/notify`, ...overrides,
    };
  };
  const refundRequest = (payment: Pick<ChannelPayRequest, 'attemptNo' | 'amountMinor'>, amountMinor: bigint, refundNo = uniqueNo('R')): ChannelRefundRequest => ({
    refundNo, attemptNo: payment.attemptNo, channelTradeNo: null, paymentAmountMinor: payment.amountMinor, amountMinor, currency: 'CNY', reason: 'customer asked',
    notifyUrl: `${receiver.url}/channels/alipay/notify`,
  });
  /** A precreated attempt the payer has paid. */
  const paidAttempt = async (amountMinor: bigint) => {
    const pay = payRequest(amountMinor);
    expect(await adapter.pay(pay)).toMatchObject({ status: 'PENDING' });
    sim.payerPays(pay.attemptNo);
    return pay;
  };

  beforeAll(async () => {
    await receiver.start();
    sim = await startAlipaySimulator({
      appId, appPublicKeyPem: appKeys.publicKeyPem, alipayPrivateKeyPem: alipayKeys.privateKeyPem, payees,
      appGatewayUrl: `${receiver.url}/alipay/gateway`, notifyRetryDelaysMs: [50, 50, 50],
    });
    adapter = createAlipayAdapter(parseAlipayConfig(configInput()));
  });

  afterAll(async () => {
    await Promise.all([adapter, ...extras].map((each) => each.dispose()));
    await sim.close();
    await receiver.close();
  });

  describe('QR-code payments (alipay.trade.precreate)', () => {
    it('answers PENDING with the QR code; the trade exists once scanned, and the notification and query report the success', async () => {
      const pay = payRequest(1999n);
      const result = await adapter.pay(pay);
      expect(result).toEqual({ status: 'PENDING', payerAction: { type: 'QR_CODE', content: expect.stringMatching(/^https:\/\/qr\.alipay\.com\//) } });
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'NOT_FOUND' });

      sim.payerOpens(pay.attemptNo);
      const waiting = await adapter.query(queryOf(pay));
      expect(waiting).toEqual({ status: 'PENDING', channelTradeNo: expect.any(String) });

      sim.payerPays(pay.attemptNo);
      const [notification] = await waitFor(() => (receiver.about(pay.attemptNo).length > 0 ? receiver.about(pay.attemptNo) : undefined));
      expect(notification).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'SUCCEEDED', amountMinor: 1999n, currency: 'CNY' } } });
      const queried = await adapter.query(queryOf(pay));
      expect(queried).toMatchObject({ status: 'SUCCEEDED', amountMinor: 1999n, currency: 'CNY', channelTradeNo: waiting.status === 'PENDING' ? waiting.channelTradeNo : '' });
      expect(queried.status === 'SUCCEEDED' && Math.abs(queried.paidAt.getTime() - Date.now())).toBeLessThan(5000);
    });

    it('answers the same QR code for the same attempt, and UNKNOWN when the number names another order', async () => {
      const pay = payRequest(2500n);
      const first = await adapter.pay(pay);
      expect(await adapter.pay(pay)).toEqual(first);
      expect(await adapter.pay({ ...pay, amountMinor: 2501n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('ACQ.CONTEXT_INCONSISTENT') });
    });

    it('reports a settlement that comes later, by query', async () => {
      const pay = payRequest(3300n);
      await adapter.pay(pay);
      sim.payerPays(pay.attemptNo, { delayMs: 150 });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'PENDING' });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 3300n });
    });

    it('fails a named business refusal, and keeps system errors and an unavailable service UNKNOWN', async () => {
      sim.next('alipay.trade.precreate', { kind: 'fail', subCode: 'ACQ.EXIST_FORBIDDEN_WORD', subMsg: '订单信息中包含违禁词' });
      expect(await adapter.pay(payRequest(100n))).toEqual({ status: 'FAILED', code: 'ACQ.EXIST_FORBIDDEN_WORD', message: '订单信息中包含违禁词' });
      sim.next('alipay.trade.precreate', { kind: 'fail', subCode: 'ACQ.SYSTEM_ERROR' });
      expect(await adapter.pay(payRequest(100n))).toMatchObject({ status: 'UNKNOWN' });
      sim.next('alipay.trade.precreate', { kind: 'fail', code: '20000', subCode: 'isp.unknow-error' });
      expect(await adapter.pay(payRequest(100n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('20000') });
      sim.next('alipay.trade.precreate', { kind: 'fail', code: '10003', subCode: 'ACQ.WHATEVER' });
      expect(await adapter.pay(payRequest(100n))).toMatchObject({ status: 'UNKNOWN' });
    });

    it('refuses what Alipay cannot take without calling it', async () => {
      const before = sim.calls.length;
      expect(await adapter.pay(payRequest(100n, { currency: 'USD' }))).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
      expect(await adapter.pay(payRequest(100n, { product: 'WECHAT_NATIVE' }))).toMatchObject({ status: 'FAILED', code: 'PRODUCT_NOT_SUPPORTED' });
      expect(await adapter.pay(payRequest(10_000_000_001n))).toMatchObject({ status: 'FAILED', code: 'INVALID_AMOUNT' });
      expect(sim.calls.length).toBe(before);
    });
  });

  describe('page payments (alipay.trade.page.pay)', () => {
    it('hands the payer a signed form that opens the cashier; the payment then settles', async () => {
      const pay = payRequest(8800n, { product: 'ALIPAY_PAGE', returnUrl: 'https://shop.example.com/return' });
      const result = await adapter.pay(pay);
      if (result.status !== 'PENDING' || result.payerAction?.type !== 'FORM') throw new Error(`expected a FORM, got ${JSON.stringify(result)}`);
      const action = result.payerAction;
      expect(action.url.startsWith(sim.gatewayUrl)).toBe(true);
      expect(new URL(action.url).searchParams.get('method')).toBe('alipay.trade.page.pay');
      expect(JSON.parse(action.fields.biz_content ?? '{}')).toMatchObject({ out_trade_no: pay.attemptNo, total_amount: '88.00', product_code: 'FAST_INSTANT_TRADE_PAY' });

      const cashier = await request(action.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(action.fields).toString() });
      const page = await cashier.body.text();
      expect(page).toContain(`<p id="out_trade_no">${pay.attemptNo}</p>`);
      expect(page).toContain('<p id="total_amount">88.00</p>');
      expect(page).toContain('https://shop.example.com/return');

      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'NOT_FOUND' });
      sim.payerPays(pay.attemptNo);
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 8800n });
    });

    it('the cashier refuses a form whose amount was altered', async () => {
      const pay = payRequest(500n, { product: 'ALIPAY_PAGE' });
      const result = await adapter.pay(pay);
      if (result.status !== 'PENDING' || result.payerAction?.type !== 'FORM') throw new Error('expected a FORM');
      const fields = { ...result.payerAction.fields, biz_content: (result.payerAction.fields.biz_content ?? '').replace('"5.00"', '"0.01"') };
      const cashier = await request(result.payerAction.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      expect(await cashier.body.text()).toContain('isv.invalid-signature');
      expect(() => sim.payerPays(pay.attemptNo)).toThrow('no order');
    });

    it('can redirect instead, with everything in the URL', async () => {
      const redirecting = extraAdapter({ pagePayAction: 'REDIRECT' });
      const pay = payRequest(1234n, { product: 'ALIPAY_PAGE' });
      const result = await redirecting.pay(pay);
      if (result.status !== 'PENDING' || result.payerAction?.type !== 'REDIRECT') throw new Error('expected a REDIRECT');
      const cashier = await request(result.payerAction.url);
      expect(await cashier.body.text()).toContain('<p id="total_amount">12.34</p>');
    });
  });

  describe('what cannot be trusted is UNKNOWN', () => {
    it('gives up on a hang at the timeout', async () => {
      const pay = payRequest(700n);
      sim.next('alipay.trade.precreate', { kind: 'hang' });
      const startedAt = Date.now();
      expect(await adapter.pay(pay)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(Date.now() - startedAt).toBeLessThan(timeoutMs + 1000);
      sim.next('alipay.trade.query', { kind: 'hang' });
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
    });

    it('treats HTTP 5xx as UNKNOWN, even when the request took effect', async () => {
      const pay = payRequest(710n);
      sim.next('alipay.trade.precreate', { kind: 'http', status: 502, effect: true });
      expect(await adapter.pay(pay)).toEqual({ status: 'UNKNOWN', reason: 'Alipay answered HTTP 502' });
      expect(sim.books.orders.has(pay.attemptNo)).toBe(true);
    });

    it('treats an answer whose signature fails as UNKNOWN', async () => {
      const pay = await paidAttempt(720n);
      sim.next('alipay.trade.query', { kind: 'badSignature' });
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'UNKNOWN', reason: 'the answer signature does not verify' });
      const misconfigured = extraAdapter({ alipayPublicKeyPem: strangerKeys.publicKeyPem });
      expect(await misconfigured.query(queryOf(pay))).toEqual({ status: 'UNKNOWN', reason: 'the answer signature does not verify' });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('never reports success for a wrong echo or an unknown status', async () => {
      const pay = await paidAttempt(730n);
      sim.next('alipay.trade.query', { kind: 'mutate', mutate: (body) => Object.assign(body, { trans_currency: 'USD' }) });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('currency mismatch') });
      sim.next('alipay.trade.query', { kind: 'mutate', mutate: (body) => Object.assign(body, { out_trade_no: 'someone_else' }) });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('someone_else') });
      sim.next('alipay.trade.query', { kind: 'mutate', mutate: (body) => Object.assign(body, { total_amount: '7.3O' }) });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('total_amount') });
      sim.next('alipay.trade.query', { kind: 'mutate', mutate: (body) => Object.assign(body, { total_amount: 7.3 }) });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'UNKNOWN' });
      sim.setTradeStatus(pay.attemptNo, 'TRADE_PENDING_REVIEW');
      expect(await adapter.query(queryOf(pay))).toEqual({ status: 'UNKNOWN', reason: 'unknown trade_status "TRADE_PENDING_REVIEW"' });
      sim.setTradeStatus(pay.attemptNo, 'TRADE_FINISHED');
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 730n });
    });

    it('is refused with isv.invalid-signature when it signs with the wrong key, and nothing is created', async () => {
      const impostor = extraAdapter({ appPrivateKeyPem: strangerKeys.privateKeyPem });
      const pay = payRequest(740n);
      expect(await impostor.pay(pay)).toMatchObject({ status: 'FAILED', code: 'isv.invalid-signature' });
      expect(sim.books.orders.has(pay.attemptNo)).toBe(false);
    });

    it('stamps requests in Beijing time whatever zone the server runs in', async () => {
      const zone = process.env.TZ;
      process.env.TZ = 'America/Los_Angeles';
      try {
        expect(await adapter.query(queryOf(payRequest(100n)))).toEqual({ status: 'NOT_FOUND' });
      } finally {
        process.env.TZ = zone;
      }
    });

    it('answers every call UNKNOWN while Alipay hangs', async () => {
      sim.setHangAll(true);
      try {
        expect(await adapter.close('anything')).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      } finally {
        sim.setHangAll(false);
      }
    });
  });

  describe('refunds', () => {
    it('refunds in parts up to the amount paid, idempotently per refund number', async () => {
      const pay = await paidAttempt(10_000n);
      const first = refundRequest(pay, 3000n);
      const firstResult = await adapter.refund(first);
      expect(firstResult).toEqual({ status: 'SUCCEEDED', channelRefundNo: expect.any(String), amountMinor: 3000n, currency: 'CNY' });
      // A repeat moves no money (fund_change N); the refund query confirms the amount.
      expect(await adapter.refund(first)).toEqual(firstResult);
      expect(await adapter.refund({ ...first, amountMinor: 3001n })).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });

      expect(await adapter.refund(refundRequest(pay, 7001n))).toMatchObject({ status: 'FAILED', code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' });
      expect(await adapter.refund(refundRequest(pay, 7000n))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 7000n });
      expect(await adapter.refund(refundRequest(pay, 1n))).toMatchObject({ status: 'FAILED', code: 'ACQ.TRADE_HAS_CLOSE' });

      expect(await adapter.queryRefund(refundQueryOf(first))).toEqual(firstResult);
      // Alipay finds a refund only under its trade: the query names both, from what Tongbao passes.
      expect(await adapter.queryRefund({ ...refundQueryOf(first), refundNo: 'never_sent' })).toEqual({ status: 'NOT_FOUND' });
      expect(await adapter.queryRefund({ ...refundQueryOf(first), attemptNo: 'no_such_attempt' })).toEqual({ status: 'NOT_FOUND' });
      expect(sim.calls.at(-1)).toBe('alipay.trade.fastpay.refund.query');
    });

    it('notifies the refund, which only asks Tongbao to query', async () => {
      const pay = await paidAttempt(5000n);
      const refund = refundRequest(pay, 1000n);
      await adapter.refund(refund);
      const [notification] = await waitFor(() => (receiver.about(refund.refundNo).length > 0 ? receiver.about(refund.refundNo) : undefined));
      expect(notification).toMatchObject({ ok: true, notification: { kind: 'REFUND', refundNo: refund.refundNo, result: { status: 'PENDING' } } });
    });

    it('fails refunds Alipay refuses', async () => {
      const pay = await paidAttempt(4000n);
      sim.next('alipay.trade.refund', { kind: 'fail', subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH', subMsg: '卖家余额不足' });
      expect(await adapter.refund(refundRequest(pay, 100n))).toEqual({ status: 'FAILED', code: 'ACQ.SELLER_BALANCE_NOT_ENOUGH', message: '卖家余额不足' });
      const unpaid = payRequest(300n);
      await adapter.pay(unpaid);
      sim.payerOpens(unpaid.attemptNo);
      expect(await adapter.refund(refundRequest(unpaid, 100n))).toMatchObject({ status: 'FAILED', code: 'ACQ.TRADE_STATUS_ERROR' });
      expect(await adapter.refund(refundRequest({ attemptNo: uniqueNo('missing'), amountMinor: 100n }, 100n))).toMatchObject({ status: 'FAILED', code: 'ACQ.TRADE_NOT_EXIST' });
      expect(await adapter.refund({ ...refundRequest(pay, 100n), currency: 'USD' })).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
    });

    it('never reports success when the refunded total cannot cover the refund, or the call hangs', async () => {
      const pay = await paidAttempt(4100n);
      sim.next('alipay.trade.refund', { kind: 'mutate', mutate: (body) => Object.assign(body, { refund_fee: '0.99' }) });
      expect(await adapter.refund(refundRequest(pay, 100n))).toMatchObject({ status: 'UNKNOWN', reason: expect.stringContaining('amount mismatch') });
      sim.next('alipay.trade.refund', { kind: 'hang', effect: true });
      const hung = refundRequest(pay, 200n);
      expect(await adapter.refund(hung)).toEqual({ status: 'UNKNOWN', reason: 'timeout' });
      expect(await adapter.queryRefund(refundQueryOf(hung))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 200n });
    });

    it('answers PENDING for a refund still running, which the query then finds done', async () => {
      const pay = await paidAttempt(6000n);
      sim.deferRefunds(true);
      const refund = refundRequest(pay, 2500n);
      try {
        expect(await adapter.refund(refund)).toEqual({ status: 'PENDING', channelRefundNo: expect.any(String) });
      } finally {
        sim.deferRefunds(false);
      }
      expect(await adapter.queryRefund(refundQueryOf(refund))).toMatchObject({ status: 'PENDING' });
      sim.settleRefund(pay.attemptNo, refund.refundNo);
      expect(await adapter.queryRefund(refundQueryOf(refund))).toMatchObject({ status: 'SUCCEEDED', amountMinor: 2500n });
    });
  });

  describe('close and cancel', () => {
    it('closes a trade waiting for payment; the closing notification says FAILED', async () => {
      const pay = payRequest(900n);
      await adapter.pay(pay);
      sim.payerOpens(pay.attemptNo);
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'CLOSED' });
      expect(await adapter.query(queryOf(pay))).toMatchObject({ status: 'FAILED', code: 'TRADE_CLOSED' });
      const [notification] = await waitFor(() => (receiver.about(pay.attemptNo).length > 0 ? receiver.about(pay.attemptNo) : undefined));
      expect(notification).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'FAILED', code: 'TRADE_CLOSED' } } });
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'CLOSED' });
    });

    it('says ALREADY_PAID for a paid trade, and CLOSED where Alipay has no trade yet', async () => {
      const pay = await paidAttempt(910n);
      expect(await adapter.close(pay.attemptNo)).toEqual({ status: 'ALREADY_PAID' });
      const unscanned = payRequest(920n);
      await adapter.pay(unscanned);
      expect(await adapter.close(unscanned.attemptNo)).toEqual({ status: 'CLOSED' });
      sim.next('alipay.trade.close', { kind: 'fail', code: '20000', subCode: 'isp.unknow-error' });
      expect(await adapter.close(pay.attemptNo)).toMatchObject({ status: 'UNKNOWN' });
    });

    it('cancels: a paid trade is refunded, a waiting one closed, an unscanned one can no longer be paid', async () => {
      const cancelOf = (pay: ChannelPayRequest) => ({ cancelNo: uniqueNo('C'), attemptNo: pay.attemptNo, channelTradeNo: null, amountMinor: pay.amountMinor, currency: 'CNY' });
      const paid = await paidAttempt(1000n);
      expect(await adapter.cancel(cancelOf(paid))).toEqual({ status: 'CANCELLED', refunded: true });
      expect(await adapter.cancel(cancelOf(paid))).toEqual({ status: 'CANCELLED', refunded: true });
      expect(await adapter.query(queryOf(paid))).toMatchObject({ status: 'FAILED', code: 'TRADE_CLOSED' });

      const waiting = payRequest(1100n);
      await adapter.pay(waiting);
      sim.payerOpens(waiting.attemptNo);
      expect(await adapter.cancel(cancelOf(waiting))).toEqual({ status: 'CANCELLED', refunded: false });

      const unscanned = payRequest(1200n);
      await adapter.pay(unscanned);
      expect(await adapter.cancel(cancelOf(unscanned))).toEqual({ status: 'CANCELLED', refunded: false });
      expect(() => sim.payerPays(unscanned.attemptNo)).toThrow('cancelled');
    });

    it('fails a cancel Alipay refuses, and is UNKNOWN when Alipay asks for a retry', async () => {
      const paid = await paidAttempt(1300n);
      const cancel = { cancelNo: uniqueNo('C'), attemptNo: paid.attemptNo, channelTradeNo: null, amountMinor: 1300n, currency: 'CNY' };
      sim.next('alipay.trade.cancel', { kind: 'fail', subCode: 'ACQ.REASON_TRADE_BEEN_FREEZEN', subMsg: '交易已经被冻结' });
      expect(await adapter.cancel(cancel)).toMatchObject({ status: 'FAILED', code: 'ACQ.REASON_TRADE_BEEN_FREEZEN' });
      sim.next('alipay.trade.cancel', { kind: 'mutate', mutate: (body) => Object.assign(body, { retry_flag: 'Y' }) });
      expect(await adapter.cancel(cancel)).toMatchObject({ status: 'UNKNOWN' });
      sim.next('alipay.trade.cancel', { kind: 'mutate', mutate: (body) => Object.assign(body, { action: 'freeze' }) });
      expect(await adapter.cancel(cancel)).toMatchObject({ status: 'UNKNOWN' });
    });
  });

  describe('payouts (alipay.fund.trans.uni.transfer)', () => {
    const payout = (amountMinor: bigint, payee: { type: string; identity: string; name?: string } = payees[0]!) => ({
      payoutNo: uniqueNo('P'), amountMinor, currency: 'CNY', payee, remark: 'commission',
    });

    it('pays an Alipay account once per payout number, and the query agrees', async () => {
      const request = payout(15_000n);
      const balanceBefore = sim.books.payerBalanceMinor;
      const result = await adapter.payouts.payout(request);
      expect(result).toEqual({ status: 'SUCCEEDED', channelRef: expect.any(String), amountMinor: 15_000n, currency: 'CNY', finishedAt: expect.any(Date) });
      expect(await adapter.payouts.payout(request)).toEqual(result);
      expect(sim.books.payerBalanceMinor).toBe(balanceBefore - 15_000n);
      expect(await adapter.payouts.query(request.payoutNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 15_000n, channelRef: result.status === 'SUCCEEDED' ? result.channelRef : '' });
      expect(await adapter.payouts.query('never_paid')).toEqual({ status: 'NOT_FOUND' });
      expect(await adapter.payouts.payout(payout(100n, { type: 'ALIPAY_USER_ID', identity: '2088102177846881' }))).toMatchObject({ status: 'SUCCEEDED' });
    });

    it('fails what Alipay refuses, and does not send what it cannot take', async () => {
      expect(await adapter.payouts.payout(payout(100n, { ...payees[0]!, name: '王五' }))).toMatchObject({ status: 'FAILED', code: 'PAYEE_USER_INFO_ERROR' });
      expect(await adapter.payouts.payout(payout(100n, { type: 'ALIPAY_LOGON_ID', identity: 'nobody@example.com', name: '某人' }))).toMatchObject({ status: 'FAILED', code: 'PAYEE_NOT_EXIST' });
      sim.next('alipay.fund.trans.uni.transfer', { kind: 'fail', subCode: 'PAYER_BALANCE_NOT_ENOUGH', subMsg: '付款方余额不足' });
      expect(await adapter.payouts.payout(payout(100n))).toMatchObject({ status: 'FAILED', code: 'PAYER_BALANCE_NOT_ENOUGH' });
      sim.next('alipay.fund.trans.uni.transfer', { kind: 'fail', subCode: 'SYSTEM_ERROR' });
      expect(await adapter.payouts.payout(payout(100n))).toMatchObject({ status: 'UNKNOWN' });
      const before = sim.calls.length;
      expect(await adapter.payouts.payout(payout(100n, { type: 'BANK_CARD', identity: '6222' }))).toMatchObject({ status: 'FAILED', code: 'PAYEE_TYPE_NOT_SUPPORTED' });
      expect(await adapter.payouts.payout(payout(100n, { type: 'ALIPAY_LOGON_ID', identity: 'payee@example.com' }))).toMatchObject({ status: 'FAILED', code: 'PAYEE_NAME_REQUIRED' });
      expect(await adapter.payouts.payout({ ...payout(100n), currency: 'USD' })).toMatchObject({ status: 'FAILED', code: 'CURRENCY_NOT_SUPPORTED' });
      expect(sim.calls.length).toBe(before);
    });

    it('reports a transfer still dealing as PENDING, then its end by message and query', async () => {
      sim.deferTransfers(true);
      const succeeding = payout(2000n);
      const failing = payout(3000n);
      try {
        expect(await adapter.payouts.payout(succeeding)).toEqual({ status: 'PENDING', channelRef: expect.any(String) });
        expect(await adapter.payouts.payout(failing)).toMatchObject({ status: 'PENDING' });
      } finally {
        sim.deferTransfers(false);
      }
      sim.settleTransfer(succeeding.payoutNo, 'SUCCESS');
      sim.settleTransfer(failing.payoutNo, 'FAIL');
      const [message] = await waitFor(() => (receiver.about(succeeding.payoutNo).length > 0 ? receiver.about(succeeding.payoutNo) : undefined));
      expect(message).toMatchObject({ ok: true, notification: { kind: 'OPERATION', operationNo: succeeding.payoutNo, result: { status: 'SUCCEEDED', amountMinor: 2000n } } });
      expect(await adapter.payouts.query(succeeding.payoutNo)).toMatchObject({ status: 'SUCCEEDED', amountMinor: 2000n });
      expect(await adapter.payouts.query(failing.payoutNo)).toMatchObject({ status: 'FAILED', code: 'PAYEE_ACCOUNT_STATUS_ERROR' });
    });
  });

  describe('notification verification', () => {
    const genuine = (overrides: Record<string, string> = {}) => {
      const pay = payRequest(100n);
      const content = {
        notify_type: 'trade_status_sync', trade_no: `2024${randomBytes(8).toString('hex')}`, out_trade_no: pay.attemptNo, trade_status: 'TRADE_SUCCESS',
        total_amount: '1.00', gmt_payment: formatWallClock(new Date(), 'Asia/Shanghai'), subject: '测试 & more', ...overrides,
      };
      return { attemptNo: pay.attemptNo, rawBody: new URLSearchParams(sim.signNotification(content)).toString() };
    };
    const verify = (rawBody: string) => adapter.verifyNotification({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody });
    const beijingAgo = (ms: number) => formatWallClock(new Date(Date.now() - ms), 'Asia/Shanghai');

    it('accepts a notification Alipay signed', () => {
      const { attemptNo, rawBody } = genuine();
      expect(verify(rawBody)).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', attemptNo, result: { status: 'SUCCEEDED', amountMinor: 100n, currency: 'CNY' } } });
    });

    it('rejects a tampered body', () => {
      const { rawBody } = genuine();
      expect(verify(rawBody.replace('total_amount=1.00', 'total_amount=1000.00'))).toEqual({ ok: false, reason: 'invalid signature' });
    });

    it('names a notification by its notify_id, which Alipay keeps across retries, for Tongbao to refuse a replay', () => {
      const { rawBody } = genuine();
      const notifyId = new URLSearchParams(rawBody).get('notify_id');
      const first = verify(rawBody);
      expect(first).toMatchObject({ ok: true, replayKey: `notify_id:${notifyId}`, replayWindowMs: 6 * 60_000 });
      expect(verify(rawBody)).toEqual(first);
    });

    it('rejects a stale or future notify_time', () => {
      expect(verify(genuine({ notify_time: beijingAgo(6 * 60_000) }).rawBody)).toEqual({ ok: false, reason: 'stale notify_time' });
      expect(verify(genuine({ notify_time: beijingAgo(4 * 60_000) }).rawBody).ok).toBe(true);
      expect(verify(genuine({ notify_time: beijingAgo(-3 * 60_000) }).rawBody)).toEqual({ ok: false, reason: 'notify_time in the future' });
    });

    it('rejects a notification signed with another key, or for another app', () => {
      const params = Object.fromEntries(new URLSearchParams(genuine().rawBody));
      params.sign = rsaSign(signContent(params, ['sign', 'sign_type']), strangerKeys.privateKeyPem);
      expect(verify(new URLSearchParams(params).toString())).toEqual({ ok: false, reason: 'invalid signature' });
      const forOther = sim.signNotification({ ...Object.fromEntries(new URLSearchParams(genuine().rawBody)), app_id: '2021000000000009' });
      expect(verify(new URLSearchParams(forOther).toString())).toEqual({ ok: false, reason: 'the notification is for another app' });
    });

    it('rejects unsigned bodies and notification types it does not know', () => {
      expect(verify('')).toMatchObject({ ok: false });
      expect(verify('out_trade_no=A1&trade_status=TRADE_SUCCESS')).toMatchObject({ ok: false });
      expect(verify(genuine({ notify_type: 'trade_status_async' }).rawBody)).toMatchObject({ ok: false, reason: expect.stringContaining('unsupported') });
      expect(verify(genuine({ trade_status: 'TRADE_REVIEW' }).rawBody)).toMatchObject({ ok: true, notification: { result: { status: 'UNKNOWN' } } });
    });

    it('acknowledges in Alipay\'s words', () => {
      expect(adapter.acknowledge(true)).toEqual({ statusCode: 200, contentType: 'text/plain; charset=utf-8', body: 'success' });
      expect(adapter.acknowledge(false)).toMatchObject({ body: 'fail' });
    });

    it('is retried with the same notify_id until acknowledged', async () => {
      receiver.dropNext = 1;
      const pay = await paidAttempt(1500n);
      const [accepted] = await waitFor(() => (receiver.about(pay.attemptNo).length > 0 ? receiver.about(pay.attemptNo) : undefined));
      expect(accepted).toMatchObject({ ok: true, notification: { result: { status: 'SUCCEEDED' } } });
      const deliveries = await waitFor(() => {
        const found = sim.deliveries.filter((delivery) => delivery.params.out_trade_no === pay.attemptNo);
        return found.length >= 2 ? found : undefined;
      });
      expect(deliveries.map((delivery) => [delivery.statusCode, delivery.answer])).toEqual([[500, 'database unavailable'], [200, 'success']]);
      expect(new Set(deliveries.map((delivery) => delivery.params.notify_id)).size).toBe(1);
    });
  });

  describe('statements', () => {
    it('unpacks the day\'s bill into plain CSV with the detail rows', async () => {
      const paid = await paidAttempt(4321n);
      const refund = refundRequest(paid, 321n);
      await adapter.refund(refund);
      const csv = await adapter.downloadStatement(formatWallClock(new Date(), 'Asia/Shanghai').slice(0, 10));
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe(billDetailHeader);
      expect(lines.some((line) => line.startsWith('#'))).toBe(false);
      const rows = lines.slice(1).map((line) => line.split(','));
      expect(rows.every((row) => row.length === 25)).toBe(true);
      const ours = rows.filter((row) => row[1] === paid.attemptNo).map((row) => [row[2], row[11], row[12], row[21]]);
      expect(ours).toEqual([['交易', '43.21', '43.21', ''], ['退款', '43.21', '-3.21', refund.refundNo]]);
    });

    it('throws for a day Alipay has no bill for, or a malformed date', async () => {
      await expect(adapter.downloadStatement('2999-01-01')).rejects.toThrow('isp.bill_not_exist');
      await expect(adapter.downloadStatement('2024-13-01')).rejects.toThrow('yyyy-MM-dd');
      sim.next('alipay.data.dataservice.bill.downloadurl.query', { kind: 'mutate', mutate: (body) => Object.assign(body, { bill_download_url: `${new URL(sim.gatewayUrl).origin}/downloadBillFile.resource?token=expired` }) });
      await expect(adapter.downloadStatement('2024-01-02')).rejects.toThrow('HTTP 403');
    });
  });
});
